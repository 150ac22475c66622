//! The Rollout scenarios on a simulated cluster and a controller process:
//! - **scale**: N Rollouts updated at once through a 4-step canary (25%, pause 0, 75%, pause 0):
//!   time until all are Healthy again; floor: with the controller stopped, the simulator making
//!   the same number of pods of the same template ready from N ReplicaSets created at once.
//! - **canary**: the controller's writes per Rollout through that update; floor: the writes the
//!   steps imply (the new ReplicaSet, the revision, five scalings, six status updates: 13).
//! - **idle**: the N Healthy Rollouts for a while: writes (floor 0) and controller CPU.

use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::ReplicaSet;
use kube::Api;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

use super::{Sizes, poll_every};
use crate::harness::{Cluster, Controller, until};
use crate::stats::Summary;
use crate::table::Row;

/// Replicas per Rollout.
const REPLICAS: i64 = 4;
/// The writes the steps imply, as counted in the module header.
const IMPLIED_WRITES: f64 = 13.0;
const WRITES: &str = "sluice_rollout_writes_total";
/// How long a scenario waits for the cluster to get where it goes.
const LIMIT: Duration = Duration::from_secs(1200);

/// The Rollout `app-{i}` of `image`: 4 replicas, pods ready 200 ms after they start, a
/// 4-step canary.
pub fn rollout(i: usize, image: &str) -> crds::Rollout {
    serde_json::from_value(json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
        "metadata": {"name": format!("app-{i}"), "namespace": "default"},
        "spec": {
            "replicas": REPLICAS,
            "selector": {"matchLabels": {"app": format!("app-{i}")}},
            "template": {
                "metadata": {"labels": {"app": format!("app-{i}")}, "annotations": {"sim.sluice.dev/start-delay": "200ms"}},
                "spec": {"containers": [{"name": "app", "image": image}]}
            },
            "strategy": {"canary": {"steps": [
                {"setWeight": 25}, {"pause": {"duration": 0}}, {"setWeight": 75}, {"pause": {"duration": 0}}
            ]}}
        }
    }))
    .expect("a valid Rollout")
}

/// Waits (at most 20 minutes) until `n` Rollouts run `image` and are Healthy on it.
pub async fn all_healthy(api: &Api<crds::Rollout>, n: usize, image: &str) {
    let healthy = || async {
        api.list(&ListParams::default())
            .await
            .map(|l| {
                l.items
                    .iter()
                    .filter(|r| {
                        let status = r.status.clone().unwrap_or_default();
                        let now = r
                            .spec
                            .template
                            .as_ref()
                            .and_then(|t| t.spec.as_ref())
                            .and_then(|s| s.containers.first())
                            .and_then(|c| c.image.clone());
                        status.phase == Some(crds::rollout::RolloutPhase::Healthy)
                            && now.as_deref() == Some(image)
                            && status.stable_rs == status.current_pod_hash
                            && status.observed_generation == r.metadata.generation.map(|g| g.to_string())
                    })
                    .count()
            })
            .unwrap_or(0)
            >= n
    };
    let _ = until(LIMIT, poll_every(n), healthy).await;
}

struct Run {
    update_seconds: f64,
    writes_per_rollout: f64,
    idle_writes: f64,
    idle_cpu_percent: f64,
    floor_seconds: f64,
}

async fn run_once(sizes: Sizes) -> Run {
    let cluster = Cluster::start().await;
    let controller = Controller::start(&cluster, "60s");
    controller.ready().await;
    let api: Api<crds::Rollout> = Api::namespaced(cluster.client.clone(), "default");
    let n = sizes.rollouts;
    for i in 0..n {
        api.create(&PostParams::default(), &rollout(i, "app:1"))
            .await
            .expect("created");
    }
    all_healthy(&api, n, "app:1").await;
    let writes = controller.metric(WRITES).await;
    let started = Instant::now();
    for i in 0..n {
        let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "app:2"}]}}}});
        let _ = api
            .patch(&format!("app-{i}"), &PatchParams::default(), &Patch::Merge(&patch))
            .await;
    }
    all_healthy(&api, n, "app:2").await;
    let update_seconds = started.elapsed().as_secs_f64();
    let writes_per_rollout = (controller.metric(WRITES).await - writes) / n.max(1) as f64;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (writes, cpu) = (controller.metric(WRITES).await, controller.cpu_seconds());
    tokio::time::sleep(Duration::from_secs(sizes.rollout_idle_seconds)).await;
    let (idle_writes, idle_cpu_percent) = (
        controller.metric(WRITES).await - writes,
        (controller.cpu_seconds() - cpu) * 100.0 / sizes.rollout_idle_seconds as f64,
    );
    drop(controller);
    Run {
        update_seconds,
        writes_per_rollout,
        idle_writes,
        idle_cpu_percent,
        floor_seconds: pods_without_controller(&cluster, n).await,
    }
}

/// The scale floor: with no controller, `n` ReplicaSets of the same pods (the Rollouts'
/// replicas, template and start delay) created at once in namespace `floor`; seconds until
/// the simulator has made every pod ready.
async fn pods_without_controller(cluster: &Cluster, n: usize) -> f64 {
    cluster
        .apply(&json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "floor"}}))
        .await;
    let sets: Api<ReplicaSet> = Api::namespaced(cluster.client.clone(), "floor");
    let started = Instant::now();
    for i in 0..n {
        let template = rollout(i, "app:2").spec.template;
        let set: ReplicaSet = serde_json::from_value(json!({
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": format!("app-{i}"), "namespace": "floor"},
            "spec": {"replicas": REPLICAS, "selector": {"matchLabels": {"app": format!("app-{i}")}}, "template": template}
        }))
        .expect("a valid ReplicaSet");
        sets.create(&PostParams::default(), &set).await.expect("created");
    }
    let ready = || async {
        sets.list(&ListParams::default()).await.map_or(0, |l| {
            l.items
                .iter()
                .filter(|s| s.status.as_ref().and_then(|s| s.ready_replicas) == Some(REPLICAS as i32))
                .count()
        }) >= n
    };
    let _ = until(LIMIT, poll_every(n), ready).await;
    started.elapsed().as_secs_f64()
}

/// Every Rollout row, over `sizes.rollout_runs` runs.
pub async fn rows(sizes: Sizes) -> Vec<Row> {
    let mut runs = Vec::new();
    for _ in 0..sizes.rollout_runs {
        runs.push(run_once(sizes).await);
    }
    let of = |f: fn(&Run) -> f64| Summary::of(&runs.iter().map(f).collect::<Vec<_>>());
    let n = sizes.rollouts;
    vec![
        Row {
            scenario: "scale",
            figure: format!("{n} Rollouts updated at once through a 4-step canary: time to all Healthy"),
            unit: "s",
            value: of(|r| r.update_seconds),
            floor: Some((
                of(|r| r.floor_seconds),
                "the simulator readying the same pods with no controller".into(),
            )),
            goal: "<= 1.5x",
        },
        Row {
            scenario: "canary",
            figure: "controller writes per canary Rollout".into(),
            unit: "",
            value: of(|r| r.writes_per_rollout),
            floor: Some((Summary::of(&[IMPLIED_WRITES]), "the writes the steps imply".into())),
            goal: "<= 1.2x",
        },
        Row {
            scenario: "idle",
            figure: format!("{n} Healthy Rollouts for {} s: writes", sizes.rollout_idle_seconds),
            unit: "",
            value: of(|r| r.idle_writes),
            floor: Some((Summary::of(&[0.0]), "none".into())),
            goal: "0 writes",
        },
        Row {
            scenario: "idle",
            figure: format!(
                "{n} Healthy Rollouts for {} s: controller CPU",
                sizes.rollout_idle_seconds
            ),
            unit: "% of a core",
            value: of(|r| r.idle_cpu_percent),
            floor: None,
            goal: "< 1% of a core",
        },
    ]
}
