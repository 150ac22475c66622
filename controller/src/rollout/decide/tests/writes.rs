//! What a canary update writes when pods turn ready one at a time: zero-second pauses pass
//! without a pause, and replica counts wait until the ReplicaSets have settled.

use super::*;

/// Status writes and other writes of one walk.
#[derive(Debug, Default, PartialEq)]
struct Writes {
    status: usize,
    held: usize,
    actions: usize,
}

impl World {
    /// One more pod of the first ReplicaSet short of its size turns ready. False when none is.
    fn one_pod_ready(&mut self) -> bool {
        for rs in &mut self.snap.replicasets {
            let want = spec_replicas(rs);
            let status = rs.status.get_or_insert_with(ReplicaSetStatus::default);
            let ready = status.available_replicas.unwrap_or(0);
            if ready < want {
                status.replicas = ready + 1;
                status.ready_replicas = Some(ready + 1);
                status.available_replicas = Some(ready + 1);
                return true;
            }
        }
        false
    }

    /// Reconciles, a pod turning ready whenever a pass has nothing to do, until nothing moves.
    fn walk(&mut self) -> Writes {
        let mut writes = Writes::default();
        for _ in 0..200 {
            let before = self.snap.rollout.status.clone();
            let plan = self.step();
            writes.actions += plan.actions.len();
            let changed = Some(&plan.status) != before.as_ref();
            writes.held += usize::from(plan.hold_status);
            writes.status += usize::from(changed && !plan.hold_status);
            if plan.actions.is_empty() && (plan.hold_status || !changed) && !self.one_pod_ready() {
                return writes;
            }
        }
        panic!("no fixpoint: {:#?}", self.status());
    }
}

fn four_pods(steps: Value) -> World {
    let mut spec = canary(steps);
    spec["replicas"] = json!(4);
    let mut w = World::new(rollout(spec));
    w.settle();
    w.set_image("web:2");
    w
}

#[test]
fn a_zero_second_pause_is_passed_in_the_same_write_as_the_step_before() {
    let mut w = four_pods(json!([
        {"setWeight": 25}, {"pause": {"duration": 0}}, {"setWeight": 75}, {"pause": {"duration": "0s"}}
    ]));
    w.walk();
    assert!(
        w.plans
            .iter()
            .all(|p| p.status.pause_conditions.is_empty() && p.status.phase != Some(RolloutPhase::Paused)),
        "never paused"
    );
    let steps: Vec<Option<i32>> = w.plans.iter().map(|p| p.status.current_step_index).collect();
    assert!(!steps.contains(&Some(1)) && !steps.contains(&Some(3)), "{steps:?}");
    assert!(
        w.events()
            .contains(&"RolloutStepCompleted: Rollout step 2/4 completed (pause: 0s)".to_string())
    );
    assert!(
        w.events()
            .contains(&"RolloutStepCompleted: Rollout step 4/4 completed (pause: 0s)".to_string())
    );
    assert_eq!(w.phase().0, Some(RolloutPhase::Healthy));
    assert_eq!(w.counts("web:2"), (4, 4));
    // A pause of a second still pauses.
    let mut w = four_pods(json!([{"setWeight": 25}, {"pause": {"duration": 1}}]));
    w.walk();
    assert_eq!(w.phase(), (Some(RolloutPhase::Paused), "CanaryPauseStep".into()));
}

#[test]
fn moving_replica_counts_are_written_once_the_replicasets_settle() {
    let mut w = four_pods(json!([
        {"setWeight": 25}, {"pause": {"duration": 0}}, {"setWeight": 75}, {"pause": {"duration": 0}}
    ]));
    let writes = w.walk();
    assert_eq!(w.phase().0, Some(RolloutPhase::Healthy));
    // The final counts are stored, exactly.
    let status = w.status();
    let counts = (
        status.replicas,
        status.updated_replicas,
        status.ready_replicas,
        status.available_replicas,
    );
    assert_eq!(counts, (Some(4), Some(4), Some(4), Some(4)));
    assert_eq!(w.snap.counts_held_since, None, "nothing left held");
    // Status writes: the update, each weight reached, and the promotion; every pod turning ready
    // in between was held back, not written.
    assert!(writes.held > 0, "{writes:?}");
    assert_eq!(writes.status, 4, "{writes:?}");
}
