//! One reconcile of an ApplicationSet: observe → decide → execute → status and Events.

use std::sync::Arc;
use std::time::Duration;

use crds::gitops::ApplicationSet;
use kube::ResourceExt as _;
use kube::runtime::controller::Action as Requeue;
use tracing::instrument;

use super::context::AppSetContext;
use super::{decide, execute, observe, status};
use crate::{Error, Result};

const CONTROLLER: &str = "applicationset";

/// How often a set without Git generators is generated again (cluster Secrets and its
/// Applications are watched).
const IDLE_RECHECK: Duration = Duration::from_secs(600);

/// Reconciles one ApplicationSet.
///
/// # Errors
/// API failures; retried by [`error_policy`].
#[instrument(skip(set, ctx), fields(namespace = set.namespace().unwrap_or_default(), name = %set.name_any()))]
pub async fn reconcile(set: Arc<ApplicationSet>, ctx: Arc<AppSetContext>) -> Result<Requeue> {
    let _timer = ctx.runtime.base.metrics.reconcile(CONTROLLER);
    if set.metadata.deletion_timestamp.is_some() {
        // Its Applications go by garbage collection (their ownerReference).
        return Ok(Requeue::await_change());
    }
    let snap = observe::snapshot(&ctx, &set).await;
    let mut decision = decide::decide(&snap);
    let outcome = execute::actions(&ctx, &snap, &decision.actions).await?;
    decide::settle(&snap, &mut decision, &outcome.failures);
    let wrote = status::write(&ctx, &snap, &decision.status).await?;
    let mut events = decision.events;
    events.extend(outcome.events);
    status::publish(&ctx, &snap, &events).await;
    tracing::debug!(writes = outcome.writes + usize::from(wrote), "reconciled");
    Ok(Requeue::requeue(requeue_after(&set, &ctx)))
}

/// The shortest `requeueAfterSeconds` of its Git generators, else the repository poll interval
/// for a set with Git generators, else [`IDLE_RECHECK`].
fn requeue_after(set: &ApplicationSet, ctx: &AppSetContext) -> Duration {
    let reads = gitops::appset::git_reads(&set.spec.generators);
    if reads.is_empty() {
        return IDLE_RECHECK;
    }
    set.spec
        .generators
        .iter()
        .filter_map(|g| g.git.as_ref()?.requeue_after_seconds)
        .filter_map(|s| u64::try_from(s).ok())
        .map(Duration::from_secs)
        .min()
        .unwrap_or(ctx.runtime.settings.poll_interval)
}

/// Retries failed reconciles: conflicts at once, everything else after a few seconds.
pub fn error_policy(set: Arc<ApplicationSet>, error: &Error, ctx: Arc<AppSetContext>) -> Requeue {
    crate::requeue::after_error(&ctx.runtime.base.metrics, CONTROLLER, &set.name_any(), error)
}
