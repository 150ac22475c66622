//! Moving from Argo Rollouts to Sluice: a Rollout Argo Rollouts was running (its ReplicaSet
//! owned by the Rollout, named with Argo's pod-template hash, its status in Argo's shape) is
//! taken over when Sluice starts handling it. Nothing restarts: the same ReplicaSet and the same
//! pods stay, no ReplicaSet is added, the Services keep their selector, and the next image
//! change goes through the steps from the adopted stable version.
//!
//! The handover uses the controller instance id: Sluice runs with `--instance-id sluice` and
//! ignores the Rollout until it carries the label, as one Rollout at a time moves in a real
//! migration.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use crds::rollout::RolloutPhase;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use tests::cluster::Cluster;
use tests::rollouts::{Probe, phase_of, step_of};

const NS: &str = "default";
const WAIT: Duration = Duration::from_secs(60);
/// A hash Argo Rollouts computed (its own FNV of the template); Sluice's would differ.
const ARGO_HASH: &str = "5f8d7c9b64";
const INSTANCE_LABEL: &str = "argo-rollouts.argoproj.io/controller-instance-id";

fn pod_template(image: &str, hash: Option<&str>) -> Value {
    let mut labels = json!({"app": "web"});
    if let Some(hash) = hash {
        labels["rollouts-pod-template-hash"] = json!(hash);
    }
    json!({"metadata": {"labels": labels, "annotations": {"sim.sluice.dev/start-delay": "100ms"}},
           "spec": {"containers": [{"name": "web", "image": image}]}})
}

async fn pods(cluster: &Cluster) -> Vec<(String, String)> {
    let api: Api<Pod> = Api::namespaced(cluster.client.clone(), NS);
    let mut all: Vec<(String, String)> = api
        .list(&ListParams::default().labels("app=web"))
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .map(|p| (p.metadata.name.unwrap(), p.metadata.uid.unwrap()))
        .collect();
    all.sort();
    all
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rollout_argo_was_running_is_taken_over_without_restarting_a_pod() {
    let scope = controller::scope::Scope {
        namespace: None,
        instance_id: Some("sluice".into()),
    };
    let cluster = Cluster::start_scoped(None, None, scope).await;
    for name in ["web-stable", "web-canary"] {
        let service = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"selector": {"app": "web", "rollouts-pod-template-hash": ARGO_HASH}, "ports": [{"port": 80}]}});
        cluster.apply(&service.to_string(), NS).await;
    }
    let rollout = json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
        "metadata": {"name": "web", "annotations": {"rollout.argoproj.io/revision": "1"}},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": pod_template("web:1", None),
                 "strategy": {"canary": {"stableService": "web-stable", "canaryService": "web-canary",
                                         "steps": [{"setWeight": 34}, {"pause": {"duration": "1s"}}]}}},
    });
    cluster.apply(&rollout.to_string(), NS).await;
    let rollouts: Api<crds::Rollout> = Api::namespaced(cluster.client.clone(), NS);
    let owner = rollouts.get("web").await.unwrap();

    // What Argo Rollouts had made: the ReplicaSet under the Rollout, and the Rollout's status.
    let sets: Api<ReplicaSet> = Api::namespaced(cluster.client.clone(), NS);
    let argo_set: ReplicaSet = serde_json::from_value(json!({
        "metadata": {"name": format!("web-{ARGO_HASH}"),
                     "labels": {"app": "web", "rollouts-pod-template-hash": ARGO_HASH},
                     "annotations": {"rollout.argoproj.io/revision": "1", "rollout.argoproj.io/desired-replicas": "3"},
                     "ownerReferences": [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": "web",
                                          "uid": owner.metadata.uid.clone().unwrap(), "controller": true, "blockOwnerDeletion": true}]},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web", "rollouts-pod-template-hash": ARGO_HASH}},
                 "template": pod_template("web:1", Some(ARGO_HASH))},
    }))
    .unwrap();
    sets.create(&PostParams::default(), &argo_set).await.unwrap();
    let argo_status = json!({"status": {
        "phase": "Healthy", "stableRS": ARGO_HASH, "currentPodHash": ARGO_HASH, "observedGeneration": "1",
        "replicas": 3, "updatedReplicas": 3, "readyReplicas": 3, "availableReplicas": 3, "HPAReplicas": 3,
        "currentStepIndex": 2, "selector": format!("app=web,rollouts-pod-template-hash={ARGO_HASH}"),
        "canary": {}, "conditions": [
            {"type": "Available", "status": "True", "reason": "AvailableReason", "message": "Rollout has minimum availability",
             "lastTransitionTime": "2026-11-30T10:00:00Z", "lastUpdateTime": "2026-11-30T10:00:00Z"}]}});
    rollouts
        .patch_status("web", &PatchParams::default(), &Patch::Merge(&argo_status))
        .await
        .unwrap();
    tests::wait::until_state(
        "Argo's three pods",
        WAIT,
        Duration::from_millis(100),
        || pods(&cluster),
        |p| p.len() == 3,
    )
    .await;
    let web = Probe::new(&cluster.client, NS, "web");
    tests::wait::until_state(
        "Argo's three pods ready",
        WAIT,
        Duration::from_millis(100),
        || web.counts_of("web:1"),
        |counts| *counts == (3, 3),
    )
    .await;
    let before = pods(&cluster).await;
    let reconciles = || {
        cluster
            .metrics
            .reconciles
            .get_or_create(&controller::metrics::ReconcileLabels { controller: "rollout" })
            .get()
    };
    assert_eq!(reconciles(), 0, "Sluice leaves a Rollout of another instance alone");

    // The handover.
    let label = json!({"metadata": {"labels": {INSTANCE_LABEL: "sluice"}}});
    rollouts
        .patch("web", &PatchParams::default(), &Patch::Merge(&label))
        .await
        .unwrap();
    tests::wait::until_state(
        "Sluice to take the Rollout",
        WAIT,
        Duration::from_millis(50),
        || async { reconciles() },
        |n| *n > 0,
    )
    .await;
    // Evidence that the take-over settled before the absences below are checked: two more
    // reconciles, woken one after the other (reconciles of one object never overlap, so the
    // second starting means the first finished).
    for touch in ["1", "2"] {
        let before = reconciles();
        let note = json!({"metadata": {"annotations": {"test.sluice.dev/touched": touch}}});
        rollouts
            .patch("web", &PatchParams::default(), &Patch::Merge(&note))
            .await
            .unwrap();
        tests::wait::until_state(
            "a reconcile after the touch",
            WAIT,
            Duration::from_millis(50),
            || async { reconciles() },
            |n| *n > before,
        )
        .await;
    }
    assert_eq!(phase_of(&web.get().await), Some(RolloutPhase::Healthy));
    assert_eq!(pods(&cluster).await, before, "the same pods: none deleted, none added");
    let all = sets.list(&ListParams::default()).await.unwrap().items;
    assert_eq!(all.len(), 1, "no ReplicaSet added: {all:?}");
    assert_eq!(
        all[0].metadata.name.as_deref(),
        Some(format!("web-{ARGO_HASH}").as_str())
    );
    assert_eq!(web.get().await.status.unwrap().stable_rs.as_deref(), Some(ARGO_HASH));
    assert_eq!(web.service_hash("web-stable").await.as_deref(), Some(ARGO_HASH));

    // The next version goes through the steps from Argo's stable ReplicaSet.
    web.set_image("web:2").await;
    web.wait("the 1s pause at 34%", WAIT, |r, _| step_of(r) == Some(1))
        .await;
    assert_eq!(web.counts_of("web:2").await.0, 1);
    assert!(
        pods(&cluster).await.iter().filter(|p| before.contains(p)).count() >= 2,
        "the stable pods serve through the canary"
    );
    let done = web
        .wait("web:2 to be stable", WAIT, |r, _| {
            phase_of(r) == Some(RolloutPhase::Healthy)
                && r.status.as_ref().is_some_and(|s| s.stable_rs == s.current_pod_hash)
        })
        .await;
    assert_ne!(done.status.unwrap().stable_rs.as_deref(), Some(ARGO_HASH));
    assert_eq!(web.counts_of("web:2").await, (3, 3));
}
