//! What both strategies share: history, restarts, the phase table, adoption.

use super::*;

#[test]
fn history_beyond_the_limit_is_deleted() {
    let mut spec = canary(json!([]));
    spec["revisionHistoryLimit"] = json!(1);
    let mut w = World::new(rollout(spec));
    w.settle();
    for image in ["web:2", "web:3", "web:4"] {
        w.set_image(image);
        w.settle();
    }
    let images: Vec<String> = w
        .snap
        .replicasets
        .iter()
        .map(|rs| {
            rs.spec.template.as_ref().unwrap().spec.as_ref().unwrap().containers[0]
                .image
                .clone()
                .unwrap()
        })
        .collect();
    assert_eq!(images, ["web:3", "web:4"], "the current one and one old revision");
}

fn pod(name: &str, created: Timestamp) -> k8s_openapi::api::core::v1::Pod {
    serde_json::from_value(
        json!({"metadata": {"name": name, "namespace": "default", "creationTimestamp": created.to_string()}}),
    )
    .unwrap()
}

#[test]
fn restart_evicts_old_pods_one_batch_at_a_time_then_records_it() {
    let mut spec = canary(json!([]));
    spec["replicas"] = json!(3);
    let mut w = World::new(rollout(spec));
    w.settle();
    w.snap.pods = (0..3).map(|i| pod(&format!("web-{i}"), t0())).collect();
    let at = t0() + SignedDuration::from_secs(10);
    w.snap.rollout.spec.restart_at = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(at));
    let plan = w.step();
    assert!(plan.actions.is_empty(), "not before restartAt");
    assert_eq!(plan.requeue_at, Some(at));
    assert_eq!(
        w.phase(),
        (Some(RolloutPhase::Progressing), "rollout is restarting".into())
    );
    w.advance(10);
    let mut evicted = Vec::new();
    for _ in 0..3 {
        let plan = w.step();
        let batch: Vec<String> = plan
            .actions
            .iter()
            .filter_map(|a| match a {
                Action::EvictPod { name } => Some(name.clone()),
                _ => None,
            })
            .collect();
        // 25% of 3 rounds down to 0: one pod at a time.
        assert_eq!(batch.len(), 1, "{batch:?}");
        assert_eq!(plan.requeue_at, Some(w.snap.now + SignedDuration::from_secs(5)));
        evicted.extend(batch);
        // The replacement pod is new.
        w.snap.pods.push(pod(&format!("new-{}", evicted.len()), w.snap.now));
        w.advance(5);
    }
    assert_eq!(evicted, ["web-0", "web-1", "web-2"]);
    w.step();
    assert_eq!(w.status().restarted_at.map(|t| t.0), Some(at));
    assert_eq!(w.phase().0, Some(RolloutPhase::Healthy));
}

#[test]
fn phase_follows_argos_order() {
    let r = rollout(canary(json!([{"setWeight": 10}])));
    let status = |v: Value| -> RolloutStatus { serde_json::from_value(v).unwrap() };
    let cases = [
        (
            json!({"conditions": [{"type": "InvalidSpec", "status": "True", "message": "bad"}]}),
            RolloutPhase::Degraded,
            "InvalidSpec: bad",
        ),
        (
            json!({"conditions": [{"type": "Progressing", "status": "False", "reason": "RolloutAborted", "message": "m"}], "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": "2026-01-01T00:00:00Z"}]}),
            RolloutPhase::Degraded,
            "RolloutAborted: m",
        ),
        (
            json!({"pauseConditions": [{"reason": "CanaryPauseStep", "startTime": "2026-01-01T00:00:00Z"}]}),
            RolloutPhase::Paused,
            "CanaryPauseStep",
        ),
        (
            json!({"updatedReplicas": 3, "availableReplicas": 10, "replicas": 10}),
            RolloutPhase::Progressing,
            "more replicas need to be updated",
        ),
        (
            json!({"updatedReplicas": 10, "availableReplicas": 8, "replicas": 10}),
            RolloutPhase::Progressing,
            "updated replicas are still becoming available",
        ),
        (
            json!({"updatedReplicas": 10, "availableReplicas": 12, "replicas": 12}),
            RolloutPhase::Progressing,
            "old replicas are pending termination",
        ),
        (
            json!({"updatedReplicas": 10, "availableReplicas": 10, "replicas": 10, "currentPodHash": "b", "stableRS": "a"}),
            RolloutPhase::Progressing,
            "waiting for all steps to complete",
        ),
        (
            json!({"updatedReplicas": 10, "availableReplicas": 10, "replicas": 10, "currentPodHash": "a", "stableRS": "a"}),
            RolloutPhase::Healthy,
            "",
        ),
    ];
    for (s, phase, message) in cases {
        assert_eq!(
            crate::rollout::decide::phase_of(&r, &status(s.clone())),
            (phase, message.to_string()),
            "{s}"
        );
    }
    let mut paused = r.clone();
    paused.spec.paused = Some(true);
    assert_eq!(
        crate::rollout::decide::phase_of(&paused, &RolloutStatus::default()),
        (RolloutPhase::Paused, "manually paused".into())
    );
}

#[test]
fn replicasets_made_by_another_controller_are_adopted_not_duplicated() {
    let r = rollout(canary(json!([{"setWeight": 20}])));
    // What Argo left behind: same template (with server defaults), a hash this controller would
    // never compute, no owner any more.
    let mut existing = crate::rollout::identity::new_replicaset(&r, "674d8cf959", 10, 3);
    existing.metadata.owner_references = None;
    let mut value = serde_json::to_value(&existing).unwrap();
    value["spec"]["template"]["spec"]["restartPolicy"] = json!("Always");
    value["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = json!("IfNotPresent");
    let existing: k8s_openapi::api::apps::v1::ReplicaSet = serde_json::from_value(value).unwrap();
    let mut w = World::new(r);
    w.snap.replicasets.push(existing);
    w.ready();
    w.settle();
    assert_eq!(w.snap.replicasets.len(), 1, "no second ReplicaSet");
    let rs = &w.snap.replicasets[0];
    assert_eq!(rs.metadata.owner_references.as_ref().unwrap()[0].uid, "uid-web");
    assert_eq!(w.status().stable_rs.as_deref(), Some("674d8cf959"));
    assert_eq!(w.phase().0, Some(RolloutPhase::Healthy));
}
