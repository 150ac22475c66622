//! The automated sync policy (Argo CD's `autoSync`): sync only when OutOfSync, at most one
//! attempt per (revision, source) unless `selfHeal` (then again after drift, with backoff
//! 2 s x 3^n), never an empty render that would prune everything unless `allowEmpty`, and a newer
//! commit supersedes an automated operation still running or retrying on an older one (Argo CD
//! keeps retrying the old commit, its issue 11494).

use crds::gitops::{Operation, OperationInitiator, SyncOperation};

use super::super::plan::{Action, Decision};
use super::super::snapshot::{Observed, Snapshot};
use super::backoff::self_heal_delay_ms;
use super::operation::{self, after};

/// Whether the automated policy is on and the Application is OutOfSync.
pub(super) fn would_sync(snap: &Snapshot, d: &Decision) -> bool {
    let on = snap
        .app
        .spec
        .sync_policy
        .as_ref()
        .and_then(|p| p.automated.as_ref())
        .is_some_and(|a| a.enabled != Some(false));
    on && d.status.sync.as_ref().is_some_and(|s| s.status == "OutOfSync")
}

/// Starts an automated sync when the policy says so; a SyncError message when it refuses.
pub(super) fn maybe_start(snap: &Snapshot, observed: &Observed, d: &mut Decision) -> Option<String> {
    let auto = snap.app.spec.sync_policy.as_ref()?.automated.as_ref()?;
    if auto.enabled == Some(false) || d.status.sync.as_ref().map(|s| s.status.as_str()) != Some("OutOfSync") {
        return None;
    }
    let last = d.status.operation_state.as_ref();
    let same = last.is_some_and(|s| {
        s.sync_result
            .as_ref()
            .is_some_and(|r| r.revision == observed.revision && r.source.as_ref() == snap.app.spec.primary_source())
    });
    let prune = auto.prune.unwrap_or(false);
    if same {
        let succeeded = last.is_some_and(|s| s.phase == "Succeeded");
        if auto.self_heal != Some(true) || !succeeded {
            return None;
        }
        let attempts = if snap.self_heal.revision == observed.revision {
            snap.self_heal.attempts
        } else {
            0
        };
        if attempts > 0
            && let Some(at) = snap.self_heal.last
        {
            let next = after(at, self_heal_delay_ms(attempts - 1));
            if snap.now < next {
                d.wake_at(next);
                return None;
            }
        }
        d.actions.push(Action::RecordSelfHeal {
            revision: observed.revision.clone(),
        });
    }
    if prune
        && auto.allow_empty != Some(true)
        && observed.resources.is_empty()
        && observed.hooks.is_empty()
        && !snap.extra.is_empty()
    {
        return Some(format!(
            "skipping the automated sync to {}: it would delete every resource (set syncPolicy.automated.allowEmpty to allow it)",
            observed.revision
        ));
    }
    let op = automated_operation(prune);
    operation::start(snap, observed, d, op);
    None
}

/// Replaces a running automated operation on an older revision with one on the observed revision.
pub(super) fn start_superseding(snap: &Snapshot, observed: &Observed, d: &mut Decision) -> Option<String> {
    let auto = snap.app.spec.sync_policy.as_ref()?.automated.as_ref()?;
    if auto.enabled == Some(false) {
        return None;
    }
    operation::start(snap, observed, d, automated_operation(auto.prune.unwrap_or(false)));
    None
}

fn automated_operation(prune: bool) -> Operation {
    Operation {
        sync: Some(SyncOperation {
            prune: Some(prune),
            ..SyncOperation::default()
        }),
        initiated_by: Some(OperationInitiator {
            username: None,
            automated: Some(true),
        }),
        retry: None,
    }
}

/// Whether a running automated operation was overtaken by a newer revision.
pub(super) fn superseded(d: &Decision, observed: &Observed) -> bool {
    d.status.operation_state.as_ref().is_some_and(|s| {
        s.phase == operation::RUNNING
            && operation::automated(s)
            && s.sync_result.as_ref().is_some_and(|r| r.revision != observed.revision)
    })
}
