//! When a completed run is deleted (`spec.ttlStrategy`).

use crds::analysis::{AnalysisPhase, AnalysisRunStatus, TtlStrategy};
use jiff::{SignedDuration, Timestamp};

/// The time a completed run expires, or `None` (not completed, or no applicable TTL).
pub fn expires_at(ttl: Option<&TtlStrategy>, status: &AnalysisRunStatus) -> Option<Timestamp> {
    let ttl = ttl?;
    let completed = status.completed_at.as_ref()?.0;
    let specific = match status.phase? {
        AnalysisPhase::Successful => ttl.seconds_after_success,
        AnalysisPhase::Failed | AnalysisPhase::Error | AnalysisPhase::Inconclusive => ttl.seconds_after_failure,
        AnalysisPhase::Pending | AnalysisPhase::Running => return None,
    };
    [ttl.seconds_after_completion, specific]
        .into_iter()
        .flatten()
        .filter_map(|seconds| {
            completed
                .checked_add(SignedDuration::from_secs(i64::from(seconds.max(0))))
                .ok()
        })
        .min()
}
