//! `spec.restartAt` (Argo's `RolloutPodRestarter`, `rollout/restart.go`): pods created before it are evicted through the Eviction API, a
//! few at a time while enough stay available; then `status.restartedAt` records it as done.

use jiff::SignedDuration;
use k8s_openapi::api::core::v1::Pod;

use super::Pass;
use crate::rollout::identity::available;
use crate::rollout::plan::{Action, Event, reason};

/// How often a restart in progress is looked at again (pods becoming ready do not wake the Rollout).
const RECHECK: SignedDuration = SignedDuration::from_secs(5);

/// Whether a restart is requested and not yet carried out.
#[must_use]
pub fn pending(pass: &Pass<'_>) -> bool {
    match &pass.rollout.spec.restart_at {
        Some(at) => pass.old.restarted_at.as_ref() != Some(at),
        None => false,
    }
}

fn created(pod: &Pod) -> Option<jiff::Timestamp> {
    pod.metadata.creation_timestamp.as_ref().map(|t| t.0)
}

/// Evicts the next batch of pods, or records the restart as done.
pub fn plan(pass: &mut Pass<'_>) {
    let Some(at) = pass.rollout.spec.restart_at.clone() else {
        return;
    };
    if !pending(pass) {
        return;
    }
    if at.0 > pass.snap.now {
        pass.plan.wake_at(at.0);
        return;
    }
    let mut stale: Vec<&Pod> = pass
        .snap
        .pods
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter(|p| created(p).is_some_and(|c| c < at.0))
        .collect();
    if stale.is_empty() {
        pass.event(Event::normal(
            reason::ROLLOUT_RESTARTED,
            "Rollout restarted: every pod was recreated",
        ));
        return;
    }
    stale.sort_by_key(|p| created(p));
    let replicas = pass.rollout.spec.effective_replicas();
    let available_now: i32 = pass.sets.all.iter().map(|rs| available(rs)).sum();
    let terminating = i32::try_from(
        pass.snap
            .pods
            .iter()
            .filter(|p| p.metadata.deletion_timestamp.is_some())
            .count(),
    )
    .unwrap_or(i32::MAX);
    let max_unavailable = max_unavailable(pass).max(1);
    let unavailable = (replicas - available_now).max(0) + terminating;
    let batch = usize::try_from((max_unavailable - unavailable).max(0)).unwrap_or(0);
    for pod in stale.into_iter().take(batch) {
        if let Some(name) = pod.metadata.name.clone() {
            pass.plan.actions.push(Action::EvictPod { name });
        }
    }
    pass.plan.wake_at(pass.snap.now + RECHECK);
}

/// Whether the restart is finished: no pod older than `restartAt` is left.
#[must_use]
pub fn finished(pass: &Pass<'_>) -> bool {
    let Some(at) = &pass.rollout.spec.restart_at else {
        return true;
    };
    at.0 <= pass.snap.now
        && !pass
            .snap
            .pods
            .iter()
            .any(|p| p.metadata.deletion_timestamp.is_none() && created(p).is_some_and(|c| c < at.0))
}

fn max_unavailable(pass: &Pass<'_>) -> i32 {
    let replicas = pass.rollout.spec.effective_replicas();
    let strategy = pass.rollout.spec.strategy.clone().unwrap_or_default();
    let value = match (strategy.canary, strategy.blue_green) {
        (Some(c), _) => Some(c.effective_max_unavailable()),
        (None, Some(bg)) => bg.max_unavailable,
        _ => None,
    };
    value
        .and_then(|v| crds::defaults::scaled_int_or_percent("maxUnavailable", &v, replicas, false).ok())
        .unwrap_or(1)
}
