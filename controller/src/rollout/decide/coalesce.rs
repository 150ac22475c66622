//! When a new status waits: replica counts that are still moving.
//!
//! A Rollout's `replicas`, `updatedReplicas`, `readyReplicas`, `availableReplicas` and
//! `HPAReplicas` (with the progress message and the Progressing condition's `lastUpdateTime`,
//! which move with them) change with every pod that turns ready. Argo's
//! `persistRolloutStatus` writes each of those changes; through one canary update of 4 pods that is
//! half of all its writes. Here a status whose only changes are those counts is not written while
//! a ReplicaSet of the Rollout is still reaching its size: it is written when they all have (the
//! counts are then final), together with any other change (a step, a phase, a condition), or
//! [`MAX_LAG`] after it was first held back, whichever comes first. Decisions never read the
//! stored counts (they read the ReplicaSets), so holding them back changes no decision; the
//! progress deadline sees progress against the stored counts, so it runs at most [`MAX_LAG`] late.

use crds::rollout::RolloutStatus;
use crds::rollout::conditions::PROGRESSING;
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::apps::v1::ReplicaSet;

use crate::rollout::snapshot::Snapshot;

/// How long replica counts may lag behind the ReplicaSets.
pub const MAX_LAG: SignedDuration = SignedDuration::from_secs(5);

/// `Some(until)` when `new` should not be written yet, and the time it must be written by.
#[must_use]
pub fn hold_until(snap: &Snapshot, old: &RolloutStatus, new: &RolloutStatus) -> Option<Timestamp> {
    if new == old || !only_counts(old, new) || snap.replicasets.iter().all(settled) {
        return None;
    }
    let until = snap.counts_held_since.unwrap_or(snap.now) + MAX_LAG;
    (snap.now < until).then_some(until)
}

/// Whether `new` differs from `old` only in what moves with the replica counts.
fn only_counts(old: &RolloutStatus, new: &RolloutStatus) -> bool {
    let mut probe = new.clone();
    probe.replicas = old.replicas;
    probe.updated_replicas = old.updated_replicas;
    probe.ready_replicas = old.ready_replicas;
    probe.available_replicas = old.available_replicas;
    probe.hpa_replicas = old.hpa_replicas;
    probe.message.clone_from(&old.message);
    let old_progressing = old.conditions.iter().find(|c| c.type_ == PROGRESSING);
    if let (Some(p), Some(o)) = (
        probe.conditions.iter_mut().find(|c| c.type_ == PROGRESSING),
        old_progressing,
    ) && p.status == o.status
        && p.reason == o.reason
    {
        p.last_update_time.clone_from(&o.last_update_time);
        p.message.clone_from(&o.message);
    }
    probe == *old
}

/// Whether a ReplicaSet has every pod it asks for, ready and available, for its current spec.
fn settled(rs: &ReplicaSet) -> bool {
    let want = crate::rollout::identity::spec_replicas(rs);
    let Some(status) = &rs.status else { return want == 0 };
    status.replicas == want
        && status.ready_replicas.unwrap_or(0) == want
        && status.available_replicas.unwrap_or(0) == want
        && status.observed_generation.unwrap_or(0) >= rs.metadata.generation.unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::apps::v1::{ReplicaSetSpec, ReplicaSetStatus};
    use serde_json::json;

    use super::*;

    fn status(v: serde_json::Value) -> RolloutStatus {
        serde_json::from_value(v).unwrap_or_default()
    }

    fn rs(want: i32, ready: i32) -> ReplicaSet {
        ReplicaSet {
            spec: ReplicaSetSpec {
                replicas: Some(want),
                ..ReplicaSetSpec::default()
            },
            status: Some(ReplicaSetStatus {
                replicas: want,
                ready_replicas: Some(ready),
                available_replicas: Some(ready),
                ..ReplicaSetStatus::default()
            }),
            ..ReplicaSet::default()
        }
    }

    fn progressing(at: &str, message: &str) -> serde_json::Value {
        json!({"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated",
               "message": message, "lastUpdateTime": at, "lastTransitionTime": "2026-01-01T00:00:00Z"})
    }

    fn snap(sets: Vec<ReplicaSet>, held_since: Option<i64>) -> Snapshot {
        let t0 = Timestamp::from_second(1_800_000_000).unwrap_or_default();
        Snapshot {
            replicasets: sets,
            counts_held_since: held_since.map(|s| t0 + SignedDuration::from_secs(s)),
            now: t0 + SignedDuration::from_secs(10),
            ..Snapshot::default()
        }
    }

    #[test]
    fn only_moving_counts_are_held_back_and_never_longer_than_the_lag() {
        let old = status(
            json!({"phase": "Progressing", "readyReplicas": 3, "message": "more replicas need to be updated",
                                "conditions": [progressing("2026-01-01T00:00:00Z", "a")]}),
        );
        let counts = status(
            json!({"phase": "Progressing", "readyReplicas": 4, "message": "updated replicas are still becoming available",
                                   "conditions": [progressing("2026-01-01T00:00:09Z", "b")]}),
        );
        let step = status(
            json!({"phase": "Progressing", "readyReplicas": 4, "currentStepIndex": 2,
                                 "conditions": [progressing("2026-01-01T00:00:09Z", "b")]}),
        );
        let phase = status(
            json!({"phase": "Healthy", "readyReplicas": 4, "message": "more replicas need to be updated",
                                  "conditions": [progressing("2026-01-01T00:00:00Z", "a")]}),
        );
        let moving = || vec![rs(3, 3), rs(2, 1)];
        let now = snap(moving(), None).now;
        // (what, snapshot, new status, held until)
        let table = [
            (
                "counts while a set moves: held",
                snap(moving(), None),
                &counts,
                Some(now + MAX_LAG),
            ),
            (
                "held before: until the first hold + lag",
                snap(moving(), Some(8)),
                &counts,
                Some(now + SignedDuration::from_secs(3)),
            ),
            (
                "held for the whole lag: written",
                snap(moving(), Some(5)),
                &counts,
                None,
            ),
            (
                "every set settled: written",
                snap(vec![rs(3, 3), rs(2, 2)], None),
                &counts,
                None,
            ),
            ("a step moved: written", snap(moving(), None), &step, None),
            ("the phase moved: written", snap(moving(), None), &phase, None),
            ("no change: nothing to hold", snap(moving(), None), &old, None),
        ];
        for (what, snap, new, want) in table {
            assert_eq!(hold_until(&snap, &old, new), want, "{what}");
        }
    }

    #[test]
    fn a_set_is_settled_only_at_its_size_for_its_generation() {
        assert!(settled(&rs(2, 2)));
        assert!(!settled(&rs(2, 1)));
        let mut stale = rs(2, 2);
        stale.metadata.generation = Some(3);
        assert!(!settled(&stale), "its controller has not seen the new size");
        assert!(settled(&ReplicaSet {
            spec: ReplicaSetSpec {
                replicas: Some(0),
                ..ReplicaSetSpec::default()
            },
            ..ReplicaSet::default()
        }));
    }
}
