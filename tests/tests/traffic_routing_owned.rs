//! An SMI TrafficSplit (a minimal CRD of ours, `tests/fixtures/smi/`) the Rollout creates, end
//! to end on the simulated API server, with the simulated requests following it. NGINX, the other
//! router whose object the Rollout creates, is in `traffic_analysis.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::Duration;

use crds::rollout::RolloutPhase;
use kube::Api;
use kube::api::DynamicObject;
use serde_json::{Value, json};
use tests::cluster::Cluster;
use tests::rollouts::{Probe, phase_of, step_of};
use tests::traffic::canary_share;

const NS: &str = "default";
const WAIT: Duration = Duration::from_secs(90);

fn yaml(objects: &[Value]) -> String {
    objects
        .iter()
        .map(|v| crds::yaml::to_string(v).unwrap())
        .collect::<Vec<_>>()
        .join("---\n")
}

fn service(name: &str, app: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
        "spec": {"selector": {"app": app}, "ports": [{"port": 80}]}})
}

fn rollout(name: &str, image: &str, canary: Value) -> Value {
    json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": name},
        "spec": {"replicas": 4, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}, "annotations": {"sim.sluice.dev/start-delay": "100ms"}},
                         "spec": {"containers": [{"name": name, "image": image}]}},
            "strategy": {"canary": canary}}})
}

fn api(cluster: &Cluster, group: &str, version: &str, kind: &str, plural: &str) -> Api<DynamicObject> {
    tests::traffic::dynamic_api(&cluster.client, NS, (group, version), kind, plural)
}

fn promoted(r: &crds::Rollout) -> bool {
    let s = r.status.clone().unwrap_or_default();
    s.stable_rs.is_some() && s.stable_rs == s.current_pod_hash && phase_of(r) == Some(RolloutPhase::Healthy)
}

fn smi_manifests() -> String {
    let canary = json!({"canaryService": "web-canary", "stableService": "web-stable", "scaleDownDelaySeconds": 1,
        "trafficRouting": {"smi": {"rootService": "web"}},
        "steps": [{"setWeight": 10}, {"pause": {}}]});
    yaml(&[
        service("web", "web"),
        service("web-stable", "web"),
        service("web-canary", "web"),
        rollout("web", "web:1", canary),
    ])
}

async fn split_weights(cluster: &Cluster) -> Option<Value> {
    let splits = api(
        cluster,
        "split.smi-spec.io",
        "v1alpha1",
        "TrafficSplit",
        "trafficsplits",
    );
    let split = serde_json::to_value(splits.get_opt("web").await.unwrap()?).unwrap();
    Some(split["spec"].clone())
}

async fn wait_split(cluster: &Cluster, canary: i64, stable: i64) {
    let want = json!({"service": "web", "backends": [
        {"service": "web-canary", "weight": canary}, {"service": "web-stable", "weight": stable}]});
    let what = format!("the TrafficSplit to be {want}");
    tests::wait::until_state(
        &what,
        WAIT,
        Duration::from_millis(50),
        || split_weights(cluster),
        |seen| seen.as_ref() == Some(&want),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_smi_traffic_split_is_created_for_the_rollout_and_requests_follow_it() {
    let cluster = Cluster::start(None).await;
    let crd =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/smi/trafficsplits.yaml")).unwrap();
    cluster.apply(&crd, NS).await;
    cluster.apply(&smi_manifests(), NS).await;
    let probe = Probe::new(&cluster.client, NS, "web");
    probe.wait_phase(RolloutPhase::Healthy, WAIT).await;
    wait_split(&cluster, 0, 100).await;
    probe.set_image("web:2").await;
    let paused = probe
        .wait("paused at 10%", WAIT, |r, _| {
            step_of(r) == Some(1) && phase_of(r) == Some(RolloutPhase::Paused)
        })
        .await;
    wait_split(&cluster, 10, 90).await;
    // One canary pod of five would answer 20% unrouted; the split gives it 10%.
    let share = canary_share(
        &cluster.client,
        &paused.status.clone().unwrap().current_pod_hash.unwrap(),
    )
    .await;
    assert!((share - 0.10).abs() < 0.02, "canary share of requests {share}");
    probe.promote().await;
    probe.wait("promoted", WAIT, |r, _| promoted(r)).await;
    wait_split(&cluster, 0, 100).await;
}
