//! The rollout view (header and tree) for the states people look at, as snapshots: a canary
//! mid-step, paused, aborted, a blue-green with its preview, and a run with a failing metric.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crds::{AnalysisRun, Rollout};
use jiff::Timestamp;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Pod;
use plugin::view::{Inputs, build, render};
use serde_json::{Value, json};

fn now() -> Timestamp {
    "2026-06-01T12:00:00Z".parse().unwrap()
}

fn ago(secs: i64) -> String {
    (now() - jiff::SignedDuration::from_secs(secs)).to_string()
}

fn rollout(strategy: Value, status: Value) -> Rollout {
    serde_json::from_value(json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
        "metadata": {"name": "api", "namespace": "shop", "uid": "r1", "generation": 2, "creationTimestamp": ago(86_400)},
        "spec": {"replicas": 4, "selector": {"matchLabels": {"app": "api"}},
            "template": {"metadata": {"labels": {"app": "api"}}, "spec": {"containers": [{"name": "api", "image": "api:2"}]}},
            "strategy": strategy},
        "status": status,
    }))
    .unwrap()
}

fn rs(hash: &str, revision: i64, image: &str, spec: i32, available: i32, age: i64) -> ReplicaSet {
    serde_json::from_value(json!({
        "metadata": {"name": format!("api-{hash}"), "namespace": "shop", "uid": format!("rs-{hash}"), "creationTimestamp": ago(age),
            "labels": {"app": "api", "rollouts-pod-template-hash": hash},
            "annotations": {"rollout.argoproj.io/revision": revision.to_string()},
            "ownerReferences": [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": "api", "uid": "r1", "controller": true}]},
        "spec": {"replicas": spec, "selector": {"matchLabels": {"app": "api", "rollouts-pod-template-hash": hash}},
            "template": {"metadata": {"labels": {"app": "api", "rollouts-pod-template-hash": hash}}, "spec": {"containers": [{"name": "api", "image": image}]}}},
        "status": {"replicas": spec, "availableReplicas": available, "readyReplicas": available},
    }))
    .unwrap()
}

fn pods(hash: &str, ready: usize, not_ready: usize, age: i64) -> Vec<Pod> {
    (0..ready + not_ready)
        .map(|i| {
            let ok = i < ready;
            serde_json::from_value(json!({
                "metadata": {"name": format!("api-{hash}-{i}"), "namespace": "shop", "creationTimestamp": ago(age),
                    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": format!("api-{hash}"), "uid": format!("rs-{hash}"), "controller": true}]},
                "spec": {"containers": [{"name": "api", "image": "x"}]},
                "status": {"phase": "Running", "containerStatuses": [{"name": "api", "image": "x", "imageID": "", "ready": ok, "restartCount": 0,
                    "state": if ok { json!({"running": {}}) } else { json!({"waiting": {"reason": "ContainerCreating"}}) }}]},
            }))
            .unwrap()
        })
        .collect()
}

fn run(name: &str, revision: i64, status: Value) -> AnalysisRun {
    serde_json::from_value(json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisRun",
        "metadata": {"name": name, "namespace": "shop", "creationTimestamp": ago(30),
            "annotations": {"rollout.argoproj.io/revision": revision.to_string()},
            "ownerReferences": [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": "api", "uid": "r1", "controller": true}]},
        "spec": {"metrics": [{"name": "success-rate", "provider": {"web": {"url": "http://x"}}}]},
        "status": status,
    }))
    .unwrap()
}

fn show(rollout: &Rollout, sets: &[ReplicaSet], pods: &[Pod], runs: &[AnalysisRun]) -> String {
    render(
        &build(&Inputs {
            rollout,
            replicasets: sets,
            pods,
            runs,
            now: now(),
        }),
        false,
    )
}

fn canary_steps() -> Value {
    json!({"canary": {"steps": [{"setWeight": 25}, {"pause": {}}, {"analysis": {"templates": [{"templateName": "success-rate"}]}}, {"setWeight": 75}]}})
}

#[test]
fn canary_mid_step() {
    let r = rollout(
        canary_steps(),
        json!({"phase": "Progressing", "message": "more replicas need to be updated", "observedGeneration": "2", "currentPodHash": "new1", "stableRS": "old1",
            "currentStepIndex": 0, "replicas": 5, "updatedReplicas": 1, "readyReplicas": 4, "availableReplicas": 4}),
    );
    let sets = [rs("new1", 2, "api:2", 1, 0, 5), rs("old1", 1, "api:1", 4, 4, 7200)];
    let mut all = pods("new1", 0, 1, 5);
    all.extend(pods("old1", 4, 0, 7200));
    insta::assert_snapshot!(show(&r, &sets, &all, &[]));
}

#[test]
fn canary_paused() {
    let r = rollout(
        canary_steps(),
        json!({"phase": "Paused", "message": "CanaryPauseStep", "observedGeneration": "2", "currentPodHash": "new1", "stableRS": "old1",
            "currentStepIndex": 1, "controllerPause": true, "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": ago(60)}],
            "replicas": 4, "updatedReplicas": 1, "readyReplicas": 4, "availableReplicas": 4}),
    );
    let sets = [rs("new1", 2, "api:2", 1, 1, 90), rs("old1", 1, "api:1", 3, 3, 7200)];
    let mut all = pods("new1", 1, 0, 90);
    all.extend(pods("old1", 3, 0, 7200));
    insta::assert_snapshot!(show(&r, &sets, &all, &[]));
}

#[test]
fn canary_aborted_by_a_failing_metric() {
    let r = rollout(
        canary_steps(),
        json!({"phase": "Degraded", "observedGeneration": "2", "currentPodHash": "new1", "stableRS": "old1", "abort": true,
            "message": "RolloutAborted: Rollout aborted update to revision 2: Metric \"success-rate\" assessed Failed due to failed (1) > failureLimit (0)",
            "currentStepIndex": 0, "replicas": 4, "updatedReplicas": 0, "readyReplicas": 4, "availableReplicas": 4}),
    );
    let sets = [rs("new1", 2, "api:2", 0, 0, 120), rs("old1", 1, "api:1", 4, 4, 7200)];
    let failed = run(
        "api-new1-2-2",
        2,
        json!({"phase": "Failed", "message": "Metric \"success-rate\" assessed Failed due to failed (1) > failureLimit (0)",
            "metricResults": [{"name": "success-rate", "phase": "Failed", "count": 1, "failed": 1,
                "measurements": [{"phase": "Failed", "value": "[0.8]", "startedAt": ago(20), "finishedAt": ago(20)}]}]}),
    );
    insta::assert_snapshot!(show(&r, &sets, &pods("old1", 4, 0, 7200), &[failed]));
}

#[test]
fn blue_green_with_preview() {
    let r = rollout(
        json!({"blueGreen": {"activeService": "api-active", "previewService": "api-preview", "autoPromotionEnabled": false}}),
        json!({"phase": "Paused", "message": "BlueGreenPause", "observedGeneration": "2", "currentPodHash": "new1", "stableRS": "old1",
            "controllerPause": true, "pauseConditions": [{"reason": "BlueGreenPause", "startTime": ago(10)}],
            "blueGreen": {"activeSelector": "old1", "previewSelector": "new1"},
            "replicas": 8, "updatedReplicas": 4, "readyReplicas": 8, "availableReplicas": 4}),
    );
    let sets = [rs("new1", 2, "api:2", 4, 4, 60), rs("old1", 1, "api:1", 4, 4, 7200)];
    let mut all = pods("new1", 4, 0, 60);
    all.extend(pods("old1", 4, 0, 7200));
    insta::assert_snapshot!(show(&r, &sets, &all, &[]));
}

#[test]
fn a_running_analysis_with_its_metrics() {
    let r = rollout(
        canary_steps(),
        json!({"phase": "Progressing", "observedGeneration": "2", "currentPodHash": "new1", "stableRS": "old1", "message": "more replicas need to be updated",
            "currentStepIndex": 2, "replicas": 4, "updatedReplicas": 1, "readyReplicas": 4, "availableReplicas": 4,
            "canary": {"currentStepAnalysisRunStatus": {"name": "api-new1-2-2", "status": "Running"}}}),
    );
    let sets = [rs("new1", 2, "api:2", 1, 1, 90), rs("old1", 1, "api:1", 3, 3, 7200)];
    let running = run(
        "api-new1-2-2",
        2,
        json!({"phase": "Running", "metricResults": [{"name": "success-rate", "phase": "Running", "count": 2, "successful": 2,
            "measurements": [{"phase": "Successful", "value": "[0.97]", "startedAt": ago(10), "finishedAt": ago(10)}]}]}),
    );
    insta::assert_snapshot!(show(&r, &sets, &pods("new1", 1, 0, 90), &[running]));
}

#[test]
fn colour_only_when_asked() {
    let r = rollout(
        canary_steps(),
        json!({"phase": "Healthy", "observedGeneration": "2", "currentPodHash": "a", "stableRS": "a"}),
    );
    let view = build(&Inputs {
        rollout: &r,
        replicasets: &[],
        pods: &[],
        runs: &[],
        now: now(),
    });
    assert!(!render(&view, false).contains('\x1b'));
    assert!(render(&view, true).contains("\x1b[32m✔ Healthy\x1b[0m"));
}

#[test]
fn a_traffic_routed_canary_shows_the_routers_weight_and_the_route() {
    let strategy = json!({"canary": {"canaryService": "api-canary", "stableService": "api-stable",
        "trafficRouting": {"plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "api"}}},
        "steps": [{"setWeight": 5}, {"pause": {}}]}});
    let r = rollout(
        strategy,
        json!({"phase": "Paused", "message": "CanaryPauseStep", "observedGeneration": "2", "currentPodHash": "new1", "stableRS": "old1",
            "currentStepIndex": 1, "replicas": 5, "updatedReplicas": 1, "readyReplicas": 5, "availableReplicas": 5,
            "canary": {"weights": {"canary": {"weight": 5, "serviceName": "api-canary", "podTemplateHash": "new1"},
                                   "stable": {"weight": 95, "serviceName": "api-stable", "podTemplateHash": "old1"}, "verified": true}}}),
    );
    let sets = [rs("new1", 2, "api:2", 1, 1, 90), rs("old1", 1, "api:1", 4, 4, 7200)];
    let text = show(&r, &sets, &[], &[]);
    // One canary pod of five is 20% of the pods, but the route gives it 5% of the requests.
    assert!(text.contains("  SetWeight:     5\n  ActualWeight:  5\n"), "{text}");
    assert!(
        text.contains("  Router:        HTTPRoute shop/api (verified)\n"),
        "{text}"
    );
}

#[test]
fn nginx_and_smi_routers_name_the_objects_the_rollout_owns() {
    let strategy = json!({"canary": {"canaryService": "api-canary", "stableService": "api-stable",
        "trafficRouting": {"nginx": {"stableIngress": "edge"}, "smi": {}},
        "steps": [{"setWeight": 5}, {"pause": {}}]}});
    let r = rollout(
        strategy,
        json!({"phase": "Healthy", "observedGeneration": "2", "currentPodHash": "a", "stableRS": "a",
            "canary": {"weights": {"canary": {"weight": 0}, "stable": {"weight": 100}, "verified": false}}}),
    );
    let text = show(&r, &[], &[], &[]);
    assert!(
        text.contains(
            "  Router:        Ingress shop/api-edge-canary (canary of edge), TrafficSplit shop/api (setting)\n"
        ),
        "{text}"
    );
}
