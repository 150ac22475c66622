//! Rollout condition types and reasons with Argo's exact names (`conditions.go` in Argo Rollouts),
//! and how a condition is set so that its times only move when it changes.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::RolloutCondition;

/// Condition type: the update progresses (or aborted, or ran out of time).
pub const PROGRESSING: &str = "Progressing";
/// Condition type: enough pods are available.
pub const AVAILABLE: &str = "Available";
/// Condition type: the update is fully promoted.
pub const COMPLETED: &str = "Completed";
/// Condition type: the Rollout is paused.
pub const PAUSED: &str = "Paused";
/// Condition type: the Rollout is Healthy.
pub const HEALTHY: &str = "Healthy";
/// Condition type (and reason): the spec cannot be acted on.
pub const INVALID_SPEC: &str = "InvalidSpec";

/// Reasons Argo writes.
pub mod reason {
    /// The update was aborted.
    pub const ROLLOUT_ABORTED: &str = "RolloutAborted";
    /// No progress within `progressDeadlineSeconds`.
    pub const PROGRESS_DEADLINE_EXCEEDED: &str = "ProgressDeadlineExceeded";
    /// The new ReplicaSet is progressing.
    pub const REPLICA_SET_UPDATED: &str = "ReplicaSetUpdated";
    /// The new ReplicaSet is fully available.
    pub const NEW_REPLICA_SET_AVAILABLE: &str = "NewReplicaSetAvailable";
    /// Paused.
    pub const ROLLOUT_PAUSED: &str = "RolloutPaused";
    /// Resumed.
    pub const ROLLOUT_RESUMED: &str = "RolloutResumed";
    /// The reason of the `Available` condition.
    pub const AVAILABLE_REASON: &str = "AvailableReason";
    /// The reason of the `Completed` condition.
    pub const ROLLOUT_COMPLETED: &str = "RolloutCompleted";
    /// The reason of the `Healthy` condition.
    pub const ROLLOUT_HEALTHY: &str = "RolloutHealthy";
}

/// A condition with no times yet (set by [`set_condition`]).
#[must_use]
pub fn condition(type_: &str, status: bool, reason: &str, message: impl Into<String>) -> RolloutCondition {
    condition_with(type_, if status { "True" } else { "False" }, reason, message)
}

/// A condition with an explicit status (`True`, `False` or `Unknown`).
#[must_use]
pub fn condition_with(type_: &str, status: &str, reason: &str, message: impl Into<String>) -> RolloutCondition {
    RolloutCondition {
        type_: type_.into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(message.into()),
        ..RolloutCondition::default()
    }
}

/// The condition of this type.
#[must_use]
pub fn find<'a>(conditions: &'a [RolloutCondition], type_: &str) -> Option<&'a RolloutCondition> {
    conditions.iter().find(|c| c.type_ == type_)
}

/// Sets a condition; its times change only when its status, reason or message does (a given
/// `lastUpdateTime` is kept). Returns whether anything changed.
pub fn set_condition(conditions: &mut Vec<RolloutCondition>, mut condition: RolloutCondition, now: &Time) -> bool {
    match conditions.iter_mut().find(|c| c.type_ == condition.type_) {
        Some(existing)
            if existing.status == condition.status
                && existing.reason == condition.reason
                && existing.message == condition.message =>
        {
            if condition.last_update_time.is_some() && existing.last_update_time != condition.last_update_time {
                existing.last_update_time = condition.last_update_time;
                return true;
            }
            false
        }
        Some(existing) => {
            condition.last_update_time = condition.last_update_time.or_else(|| Some(now.clone()));
            condition.last_transition_time = if existing.status == condition.status {
                existing.last_transition_time.clone()
            } else {
                Some(now.clone())
            };
            *existing = condition;
            true
        }
        None => {
            condition.last_update_time = condition.last_update_time.or_else(|| Some(now.clone()));
            condition.last_transition_time = Some(now.clone());
            conditions.push(condition);
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Time {
        Time(s.parse().unwrap())
    }

    #[test]
    fn times_move_only_when_the_condition_changes() {
        let mut all = Vec::new();
        let t0 = at("2026-01-01T00:00:00Z");
        assert!(set_condition(
            &mut all,
            condition(PAUSED, true, reason::ROLLOUT_PAUSED, "paused"),
            &t0
        ));
        let t1 = at("2026-01-01T00:01:00Z");
        assert!(!set_condition(
            &mut all,
            condition(PAUSED, true, reason::ROLLOUT_PAUSED, "paused"),
            &t1
        ));
        assert_eq!(all[0].last_transition_time, Some(t0.clone()));
        // Same status, new message: updated, but the transition time stays.
        assert!(set_condition(
            &mut all,
            condition(PAUSED, true, reason::ROLLOUT_PAUSED, "again"),
            &t1
        ));
        assert_eq!(all[0].last_update_time, Some(t1.clone()));
        assert_eq!(all[0].last_transition_time, Some(t0));
        // Another status: a transition.
        let t2 = at("2026-01-01T00:02:00Z");
        assert!(set_condition(
            &mut all,
            condition(PAUSED, false, reason::ROLLOUT_RESUMED, "resumed"),
            &t2
        ));
        assert_eq!(all[0].last_transition_time, Some(t2));
        assert_eq!(find(&all, PAUSED).map(|c| c.status.as_str()), Some("False"));
    }
}
