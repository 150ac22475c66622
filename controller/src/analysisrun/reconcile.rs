//! One reconcile of an AnalysisRun.

use std::sync::Arc;

use analysis::providers::RunRef;
use analysis::run::{RunEvent, advance, compile, expires_at, fail, is_completed, tasks};
use crds::AnalysisRun;
use jiff::Timestamp;
use kube::ResourceExt as _;
use kube::runtime::controller::Action;
use tracing::instrument;

use super::{args, measure, write};
use crate::context::StartedRun;
use crate::telemetry::RunLabels;
use crate::{Context, Error, Result};

const CONTROLLER: &str = "analysisrun";

/// Reconciles one AnalysisRun.
///
/// # Errors
/// API failures; the run is retried by [`error_policy`].
#[instrument(skip(run, ctx), fields(namespace = run.namespace().unwrap_or_default(), name = %run.name_any()))]
pub async fn reconcile(run: Arc<AnalysisRun>, ctx: Arc<Context>) -> Result<Action> {
    let _timer = ctx.metrics.reconcile(CONTROLLER);
    let namespace = run.namespace().ok_or(Error::MissingObjectKey(".metadata.namespace"))?;
    let name = run.name_any();
    let uid = run.uid().ok_or(Error::MissingObjectKey(".metadata.uid"))?;
    let now = Timestamp::now();
    let status = run.status.clone().unwrap_or_default();
    let key = (uid.clone(), run.metadata.generation.unwrap_or_default());

    if is_completed(status.phase) {
        ctx.started.lock().retain(|(u, _), _| *u != uid);
        return match expires_at(run.spec.ttl_strategy.as_ref(), &status) {
            Some(at) if at <= now => {
                write::delete(&ctx, &namespace, &name).await?;
                Ok(Action::await_change())
            }
            Some(at) => Ok(Action::requeue(crate::requeue::until(at, now))),
            None => Ok(Action::await_change()),
        };
    }

    let started = started_run(&ctx, &run, &namespace, key).await;
    let compiled = match &started.compiled {
        Ok(compiled) => compiled,
        Err(message) => {
            let message = started.args.mask(message);
            let failed = fail(&status, now, &message);
            write::status(&ctx, &namespace, &name, &failed).await?;
            let event = RunEvent {
                warning: true,
                reason: "AnalysisRunError".to_string(),
                message: format!("Analysis Completed. Result: Error: {message}"),
            };
            write::events(&ctx, &run, &[event]).await;
            completed_metric(&ctx, failed.phase);
            return Ok(Action::await_change());
        }
    };

    let due = tasks(compiled, &status, now);
    let run_ref = RunRef {
        name: name.clone(),
        namespace: namespace.clone(),
        uid,
    };
    let measurements = measure::measure(&ctx, &run_ref, compiled, &status, &started.args, due, now).await;
    let next = advance(compiled, &status, Timestamp::now().max(now), measurements);
    if next.status != status {
        write::status(&ctx, &namespace, &name, &next.status).await?;
    }
    write::events(&ctx, &run, &next.events).await;
    if is_completed(next.status.phase) {
        completed_metric(&ctx, next.status.phase);
    }
    tracing::debug!(phase = ?next.status.phase, wake_at = ?next.wake_at, "reconciled");
    Ok(match next.wake_at {
        Some(at) => Action::requeue(crate::requeue::until(at, Timestamp::now())),
        None => Action::await_change(),
    })
}

/// The compiled run for this generation, compiling (and resolving arguments) on first sight.
async fn started_run(ctx: &Context, run: &AnalysisRun, namespace: &str, key: (String, i64)) -> Arc<StartedRun> {
    if let Some(started) = ctx.started.lock().get(&key) {
        return started.clone();
    }
    let started = match args::resolve_args(&ctx.client, run, namespace).await {
        Ok(resolved) => StartedRun {
            compiled: compile(&run.spec, &resolved, &ctx.providers.supported()),
            args: resolved,
        },
        Err(error) => StartedRun {
            compiled: Err(error.to_string()),
            args: analysis::args::ResolvedArgs::default(),
        },
    };
    let started = Arc::new(started);
    let mut cache = ctx.started.lock();
    // Older generations of the same run are not needed any more.
    cache.retain(|(uid, _), _| *uid != key.0);
    cache.insert(key, started.clone());
    started
}

fn completed_metric(ctx: &Context, phase: Option<crds::analysis::AnalysisPhase>) {
    ctx.metrics
        .runs_completed
        .get_or_create(&RunLabels {
            phase: measure::phase_label(phase),
        })
        .inc();
}

/// Retries failed reconciles: conflicts at once, everything else after a few seconds.
pub fn error_policy(run: Arc<AnalysisRun>, error: &Error, ctx: Arc<Context>) -> Action {
    crate::requeue::after_error(&ctx.metrics, CONTROLLER, &run.name_any(), error)
}
