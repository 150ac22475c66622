//! How an operation ends: Succeeded (recorded in `status.history`, trimmed to
//! `revisionHistoryLimit`, default 10), or failed: retried with backoff while the retry policy
//! allows (the phase stays Running, `retryCount` grows and `finishedAt` marks the failed
//! attempt), else Failed, with the SyncFail hooks created.

use crds::gitops::RevisionHistory;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::Value;

use super::super::plan::{Action, Decision};
use super::super::snapshot::Snapshot;
use super::backoff;
use super::operation::{after, retry_policy};

/// Argo CD's default `revisionHistoryLimit`.
const HISTORY_LIMIT: i64 = 10;

/// Marks the operation Succeeded and records it in the history.
pub(super) fn succeed(snap: &Snapshot, d: &mut Decision) {
    let Some(state) = d.status.operation_state.as_mut() else {
        return;
    };
    state.phase = "Succeeded".into();
    state.message = Some("successfully synced (all tasks run)".into());
    state.finished_at = Some(Time(snap.now));
    let revision = state
        .sync_result
        .as_ref()
        .map(|r| r.revision.clone())
        .unwrap_or_default();
    let started = state.started_at.clone();
    let history = &mut d.status.history;
    let id = history.iter().map(|h| h.id).max().map_or(0, |m| m + 1);
    history.push(RevisionHistory {
        id,
        revision: revision.clone(),
        deployed_at: Some(Time(snap.now)),
        deploy_started_at: started,
        source: snap.app.spec.primary_source().cloned(),
    });
    let limit = snap.app.spec.revision_history_limit.unwrap_or(HISTORY_LIMIT).max(1);
    let excess = history
        .len()
        .saturating_sub(usize::try_from(limit).unwrap_or(usize::MAX));
    history.drain(..excess);
    let short = &revision[..revision.len().min(7)];
    d.event(
        false,
        "OperationCompleted",
        format!("Sync operation to {short} succeeded"),
    );
}

/// Fails the operation with `message`, or schedules a retry.
pub(super) fn fail(snap: &Snapshot, sync_fail_hooks: &[gitops::sync::Task<'_>], d: &mut Decision, message: &str) {
    let Some(state) = d.status.operation_state.as_mut() else {
        return;
    };
    let policy = retry_policy(&snap.app, state);
    let count = state.retry_count.unwrap_or(0);
    let has_policy = snap.app.spec.sync_policy.as_ref().is_some_and(|p| p.retry.is_some())
        || state.operation.as_ref().is_some_and(|o| o.retry.is_some());
    if has_policy && backoff::may_retry(Some(&policy), count) {
        let attempt = count + 1;
        let delay = backoff::retry_delay_ms(&policy, attempt);
        state.retry_count = Some(attempt);
        state.finished_at = Some(Time(snap.now));
        state.message = Some(format!("{message} (retrying attempt #{attempt} in {}s)", delay / 1000));
        d.wake_at(after(snap.now, delay));
        d.event(
            true,
            "SyncFailed",
            format!("Sync failed, retry #{attempt} in {}s: {message}", delay / 1000),
        );
        return;
    }
    state.phase = "Failed".into();
    state.message = Some(message.to_owned());
    state.finished_at = Some(Time(snap.now));
    d.event(true, "SyncFailed", format!("Sync operation failed: {message}"));
    for task in sync_fail_hooks {
        d.actions.push(Action::CreateHook {
            hook: task.object.clone(),
        });
    }
}

/// The SyncFail hooks among rendered hooks.
#[must_use]
pub(super) fn sync_fail_hooks(hooks: &[Value]) -> Vec<gitops::sync::Task<'_>> {
    gitops::sync::plan(hooks, &[], gitops::sync::Options::default()).on_failure
}
