//! One reconcile of a Rollout: observe → decide → execute → write status and events.

use std::sync::Arc;
use std::time::Duration;

use crds::Rollout;
use jiff::Timestamp;
use kube::Resource as _;
use kube::ResourceExt as _;
use kube::runtime::controller::Action as Requeue;
use tracing::instrument;

use super::plan::Action;
use super::wiring::RolloutContext;
use super::{decide, execute, observe};
use crate::events::Note;
use crate::telemetry::FailureLabels;
use crate::{Error, Result};

const CONTROLLER: &str = "rollout";

/// Reconciles one Rollout.
///
/// # Errors
/// API failures; the Rollout is retried by [`error_policy`].
#[instrument(skip(rollout, ctx), fields(namespace = rollout.namespace().unwrap_or_default(), name = %rollout.name_any()))]
pub async fn reconcile(rollout: Arc<Rollout>, ctx: Arc<RolloutContext>) -> Result<Requeue> {
    let _timer = ctx.base.metrics.reconcile(CONTROLLER);
    let client = &ctx.base.client;
    let now = Timestamp::now();
    let snapshot = observe::snapshot(client, &ctx.stores, &rollout, now).await?;
    let plan = decide(&snapshot);
    // The Rollout's own metadata is written after its status, which is guarded by the
    // resourceVersion this decision was made on.
    let (own, others): (Vec<_>, Vec<_>) = plan
        .actions
        .iter()
        .cloned()
        .partition(|a| matches!(a, Action::SetRevision { .. }));
    let mut outcome = execute::actions(client, &rollout, &others).await?;
    if outcome.collision {
        execute::bump_collision_count(client, &rollout).await?;
        return Ok(Requeue::requeue(Duration::from_millis(100)));
    }
    let wrote = execute::status(client, &rollout, &plan.status).await?;
    outcome.writes += execute::actions(client, &rollout, &own).await?.writes;
    let notes: Vec<Note<'_>> = plan
        .events
        .iter()
        .map(|e| Note {
            warning: e.warning,
            reason: e.reason,
            message: &e.message,
        })
        .collect();
    crate::events::publish(&ctx.base.recorder, &rollout.object_ref(&()), "Reconcile", &notes).await;
    ctx.base
        .metrics
        .rollout_writes
        .inc_by(u64::from(outcome.writes) + u64::from(wrote));
    tracing::debug!(phase = ?plan.status.phase, actions = ?plan.actions, wrote, "reconciled");
    Ok(match plan.requeue_at {
        Some(at) => Requeue::requeue(until(at, Timestamp::now())),
        None => Requeue::await_change(),
    })
}

/// Time from `now` to `at`, at least 100 ms so a due time in the past cannot spin.
fn until(at: Timestamp, now: Timestamp) -> Duration {
    let millis = at.duration_since(now).as_millis().max(100);
    Duration::from_millis(u64::try_from(millis).unwrap_or(100))
}

/// Retries failed reconciles: conflicts at once, everything else after a few seconds.
pub fn error_policy(rollout: Arc<Rollout>, error: &Error, ctx: Arc<RolloutContext>) -> Requeue {
    let kind = error.kind();
    ctx.base
        .metrics
        .failures
        .get_or_create(&FailureLabels {
            controller: CONTROLLER,
            kind: kind.label(),
        })
        .inc();
    tracing::warn!(name = %rollout.name_any(), error = %error.chain(), kind = kind.label(), "reconcile failed");
    match kind {
        crate::ErrorKind::Conflict => Requeue::requeue(Duration::from_millis(200)),
        crate::ErrorKind::Transient => Requeue::requeue(Duration::from_secs(5)),
        crate::ErrorKind::Invalid => Requeue::await_change(),
    }
}
