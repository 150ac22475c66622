//! One reconcile of a Rollout: observe → decide → execute → write status and events.

use std::sync::Arc;
use std::time::Duration;

use crds::Rollout;
use kube::Resource as _;
use kube::ResourceExt as _;
use kube::runtime::controller::Action as Requeue;
use tracing::instrument;

use super::context::RolloutContext;
use super::plan::Action;
use super::{decide, execute, observe, status};
use crate::{Error, ObjectKey, Result};

const CONTROLLER: &str = "rollout";

/// Reconciles one Rollout.
///
/// # Errors
/// API failures; the Rollout is retried by [`error_policy`].
#[instrument(skip(rollout, ctx), fields(namespace = rollout.namespace().unwrap_or_default(), name = %rollout.name_any()))]
pub async fn reconcile(rollout: Arc<Rollout>, ctx: Arc<RolloutContext>) -> Result<Requeue> {
    let _timer = ctx.base.metrics.reconcile(CONTROLLER);
    let client = &ctx.base.client;
    if !ctx.stores.is_ready() {
        return Ok(Requeue::requeue(std::time::Duration::from_millis(100)));
    }
    let key = format!("{}/{}", rollout.namespace().unwrap_or_default(), rollout.name_any());
    let mut snapshot = observe::snapshot(client, &ctx.stores, &rollout, ctx.base.clock.now()).await?;
    snapshot.counts_held_since = ctx.held.since(&key);
    let plan = decide(&snapshot);
    if !plan.undecided.is_empty() {
        return Err(Error::Undecided {
            object: Box::new(ObjectKey::namespaced(
                "Rollout",
                &snapshot.namespace,
                &rollout.name_any(),
            )),
            unreadable: plan.undecided,
        });
    }
    // The Rollout's own metadata is written after its status, which is guarded by the
    // resourceVersion this decision was made on.
    let (own, others): (Vec<_>, Vec<_>) = plan
        .actions
        .iter()
        .cloned()
        .partition(|a| matches!(a, Action::SetRevision { .. }));
    let mut outcome = execute::actions(client, &snapshot, &others).await?;
    if outcome.collision {
        status::bump_collision_count(client, &snapshot).await?;
        return Ok(Requeue::requeue(Duration::from_millis(100)));
    }
    let wrote = if plan.hold_status {
        ctx.held.hold(&key, snapshot.now);
        false
    } else {
        let wrote = status::write(client, &snapshot, &plan.status).await?;
        ctx.held.release(&key);
        wrote
    };
    outcome.writes += execute::actions(client, &snapshot, &own).await?.writes;
    crate::events::publish(&ctx.base.recorder, &rollout.object_ref(&()), "Reconcile", &plan.events).await;
    ctx.base
        .metrics
        .rollout_writes
        .inc_by(u64::from(outcome.writes) + u64::from(wrote));
    tracing::debug!(phase = ?plan.status.phase, actions = plan.actions.len(), wrote, "reconciled");
    Ok(match plan.requeue_at {
        Some(at) => Requeue::requeue(crate::requeue::until(at, ctx.base.clock.now())),
        None => Requeue::await_change(),
    })
}

/// Retries failed reconciles: conflicts at once, everything else after a few seconds.
pub fn error_policy(rollout: Arc<Rollout>, error: &Error, ctx: Arc<RolloutContext>) -> Requeue {
    crate::requeue::after_error(&ctx.base.metrics, CONTROLLER, &rollout.name_any(), error)
}
