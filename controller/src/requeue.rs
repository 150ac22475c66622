//! When reconcilers look again: at a due time, or after an error depending on its kind.

use std::time::Duration;

use jiff::Timestamp;
use kube::runtime::controller::Action;

use crate::metrics::{FailureLabels, Metrics};
use crate::{Error, ErrorKind};

/// Time from `now` to `at`, at least 100 ms so a due time in the past cannot spin.
#[must_use]
pub fn until(at: Timestamp, now: Timestamp) -> Duration {
    let millis = at.duration_since(now).as_millis().max(100);
    Duration::from_millis(u64::try_from(millis).unwrap_or(100))
}

/// Counts and logs a failed reconcile of `name` and says when to retry: conflicts at once,
/// transient failures after a few seconds, invalid objects when they change.
pub fn after_error(metrics: &Metrics, controller: &'static str, name: &str, error: &Error) -> Action {
    let kind = error.kind();
    metrics
        .failures
        .get_or_create(&FailureLabels {
            controller,
            kind: kind.label(),
        })
        .inc();
    tracing::warn!(%name, error = %error.chain(), kind = kind.label(), "reconcile failed");
    match kind {
        ErrorKind::Conflict => Action::requeue(Duration::from_millis(200)),
        ErrorKind::Transient => Action::requeue(Duration::from_secs(5)),
        ErrorKind::Invalid => Action::await_change(),
    }
}
