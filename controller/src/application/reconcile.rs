//! One reconcile of an Application: observe → decide → (record the intent) → execute → settle →
//! write status, metadata and Events.

use std::sync::Arc;
use std::time::Duration;

use crds::gitops::StoredApplication;
use kube::Resource as _;
use kube::ResourceExt as _;
use kube::runtime::controller::Action as Requeue;
use tracing::instrument;

use super::context::AppContext;
use super::plan::Action;
use super::{decide, execute, observe, status};
use crate::metrics::PhaseLabels;
use crate::{Error, Result};

const CONTROLLER: &str = "application";

/// How often a running operation is looked at even without a watch event.
const RUNNING_RECHECK: Duration = Duration::from_secs(5);
/// How often an idle Application is compared again (from caches: no API request when unchanged).
const IDLE_RECHECK: Duration = Duration::from_secs(600);

/// Reconciles one Application.
///
/// # Errors
/// API failures writing the Application; it is retried by [`error_policy`].
#[instrument(skip(app, ctx), fields(namespace = app.namespace().unwrap_or_default(), name = %app.name_any()))]
pub async fn reconcile(app: Arc<StoredApplication>, ctx: Arc<AppContext>) -> Result<Requeue> {
    if !ctx.runtime.owns(&app) {
        // Another replica's shard: not a read or a write from this one.
        return Ok(Requeue::await_change());
    }
    let _timer = ctx.base.metrics.app_reconcile();
    let snap = observe::snapshot(&ctx, &app).await;
    let mut decision = decide::decide(&snap);
    let mut written = status::Written::observed(&ctx, &snap)?;
    if decision.actions.iter().any(Action::acts) {
        // The intent first: a decision made on a stale copy stops here with a 409, before it acts.
        written.record(&ctx, &snap, &decision.status).await?;
    }
    let outcome = execute::actions(&ctx, &snap, &decision.actions).await?;
    let follow = decide::settle(&snap, &mut decision, &outcome);
    if !follow.is_empty() {
        execute::actions(&ctx, &snap, &follow).await?;
    }
    let before = app
        .status
        .as_ref()
        .and_then(|s| s.operation_state.as_ref())
        .map(|s| (s.phase.clone(), s.started_at.clone()));
    let after = decision
        .status
        .operation_state
        .as_ref()
        .map(|s| (s.phase.clone(), s.started_at.clone()));
    if after != before
        && let Some((phase, _)) = &after
    {
        let phase: &'static str = match phase.as_str() {
            "Succeeded" => "Succeeded",
            "Failed" => "Failed",
            "Error" => "Error",
            _ => "",
        };
        if !phase.is_empty() {
            ctx.base.metrics.app_syncs.get_or_create(&PhaseLabels { phase }).inc();
        }
    }
    written.record(&ctx, &snap, &decision.status).await?;
    written.finish(&ctx, &snap, &decision).await?;
    crate::events::publish(&ctx.base.recorder, &app.object_ref(&()), "Sync", &decision.events).await;
    tracing::debug!(
        actions = decision.actions.len(),
        writes = outcome.writes + written.writes,
        "reconciled"
    );
    let running = decision
        .status
        .operation_state
        .as_ref()
        .is_some_and(|s| s.phase == "Running");
    Ok(match decision.requeue_at {
        Some(at) => Requeue::requeue(crate::requeue::until(at, ctx.base.clock.now()).min(if running {
            RUNNING_RECHECK
        } else {
            IDLE_RECHECK
        })),
        None if running => Requeue::requeue(RUNNING_RECHECK),
        None => Requeue::requeue(IDLE_RECHECK),
    })
}

/// Retries failed reconciles: conflicts at once, everything else after a few seconds.
pub fn error_policy(app: Arc<StoredApplication>, error: &Error, ctx: Arc<AppContext>) -> Requeue {
    crate::requeue::after_error(&ctx.base.metrics, CONTROLLER, &app.name_any(), error)
}
