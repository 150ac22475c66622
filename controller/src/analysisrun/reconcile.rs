//! One reconcile of an AnalysisRun: observe (compile once, resolve arguments) → decide (pure) →
//! execute (measure, or delete after the TTL) → write status and events.

use std::sync::Arc;

use analysis::providers::RunRef;
use crds::AnalysisRun;
use kube::ResourceExt as _;
use kube::runtime::controller::Action;
use tracing::instrument;

use super::context::AnalysisRunContext;
use super::decide::{Decision, decide, settle};
use super::{execute, observe, status};
use crate::metrics::RunLabels;
use crate::{Error, Result};

const CONTROLLER: &str = "analysisrun";

fn missing(run: &AnalysisRun, field: &'static str) -> Error {
    Error::MissingField {
        kind: "AnalysisRun",
        name: run.name_any(),
        field,
    }
}

/// Reconciles one AnalysisRun.
///
/// # Errors
/// API failures; the run is retried by [`error_policy`].
#[instrument(skip(run, ctx), fields(namespace = run.namespace().unwrap_or_default(), name = %run.name_any()))]
pub async fn reconcile(run: Arc<AnalysisRun>, ctx: Arc<AnalysisRunContext>) -> Result<Action> {
    let _timer = ctx.base.metrics.reconcile(CONTROLLER);
    let namespace = run.namespace().ok_or_else(|| missing(&run, "metadata.namespace"))?;
    let name = run.name_any();
    let uid = run.uid().ok_or_else(|| missing(&run, "metadata.uid"))?;
    let now = ctx.base.clock.now();
    let status = run.status.clone().unwrap_or_default();

    let started = if analysis::run::is_completed(status.phase) {
        observe::forget(&ctx, &uid);
        None
    } else {
        let key = (uid.clone(), run.metadata.generation.unwrap_or_default());
        Some(observe::started_run(&ctx, &run, &namespace, key).await)
    };
    let (compiled, tasks) = match decide(&run, started.as_deref(), now) {
        Decision::Completed { delete, wake_at } => {
            if delete {
                execute::delete(&ctx, &namespace, &name).await?;
            }
            return Ok(match wake_at {
                Some(at) => Action::requeue(crate::requeue::until(at, now)),
                None => Action::await_change(),
            });
        }
        Decision::Fail { status: failed, event } => {
            status::write(&ctx, &namespace, &name, &failed).await?;
            status::events(&ctx, &run, &[event]).await;
            completed_metric(&ctx, failed.phase);
            return Ok(Action::await_change());
        }
        Decision::Measure { compiled, tasks } => (compiled, tasks),
    };
    let no_args = analysis::args::ResolvedArgs::default();
    let args = started.as_deref().map_or(&no_args, |s| &s.args);
    let run_ref = RunRef {
        name: name.clone(),
        namespace: namespace.clone(),
        uid,
    };
    let measurements = execute::measure(&ctx, &run_ref, compiled, &status, args, tasks, now).await;
    let next = settle(compiled, &status, ctx.base.clock.now().max(now), measurements);
    if next.status != status {
        status::write(&ctx, &namespace, &name, &next.status).await?;
    }
    status::events(&ctx, &run, &next.events).await;
    if analysis::run::is_completed(next.status.phase) {
        completed_metric(&ctx, next.status.phase);
    }
    tracing::debug!(phase = ?next.status.phase, wake_at = ?next.wake_at, "reconciled");
    Ok(match next.wake_at {
        Some(at) => Action::requeue(crate::requeue::until(at, ctx.base.clock.now())),
        None => Action::await_change(),
    })
}

fn completed_metric(ctx: &AnalysisRunContext, phase: Option<crds::analysis::AnalysisPhase>) {
    ctx.base
        .metrics
        .runs_completed
        .get_or_create(&RunLabels {
            phase: execute::phase_label(phase),
        })
        .inc();
}

/// Retries failed reconciles: conflicts at once, everything else after a few seconds.
pub fn error_policy(run: Arc<AnalysisRun>, error: &Error, ctx: Arc<AnalysisRunContext>) -> Action {
    crate::requeue::after_error(&ctx.base.metrics, CONTROLLER, &run.name_any(), error)
}
