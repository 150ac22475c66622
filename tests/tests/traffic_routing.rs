//! A traffic-routed canary end to end: a Rollout written for Argo Rollouts' Gateway API plugin
//! drives a real HTTPRoute (Gateway API's own CRD, `../shared/fixtures/gateway-api/`) on the
//! simulated API server: weights 10 -> 50 -> 100 -> back to the stable Service, canary pods by
//! weight while stable keeps every pod, the old stable kept for `scaleDownDelaySeconds`, and an
//! abort that sets weight 0 and scales the canary down after `abortScaleDownDelaySeconds`; and an
//! Istio VirtualService (a minimal CRD of ours, `tests/fixtures/istio/`) split by host. In both the
//! simulated requests follow the weights, not the pod counts.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::Duration;

use crds::rollout::RolloutPhase;
use kube::Api;
use kube::api::{ApiResource, DynamicObject};
use serde_json::json;
use tests::cluster::Cluster;
use tests::rollouts::{Probe, phase_of, step_of};

const NS: &str = "default";
const WAIT: Duration = Duration::from_secs(60);

fn httproute_crd() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/gateway-api/gateway.networking.k8s.io_httproutes.yaml");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (CI checks out shared/ beside the repository)", path.display()))
}

fn manifests() -> String {
    let service = |name: &str| {
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
        "spec": {"selector": {"app": "api"}, "ports": [{"port": 80}]}})
    };
    let route = json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "api"},
    "spec": {"parentRefs": [{"name": "edge"}], "rules": [{"backendRefs": [
        {"name": "api-stable", "port": 80, "weight": 100}, {"name": "api-canary", "port": 80, "weight": 0}
    ]}]}});
    let rollout = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "api"},
        "spec": {"replicas": 4, "selector": {"matchLabels": {"app": "api"}},
            "template": {"metadata": {"labels": {"app": "api"}, "annotations": {"sim.sluice.dev/start-delay": "100ms"}},
                         "spec": {"containers": [{"name": "api", "image": "api:1"}]}},
            "strategy": {"canary": {
                "canaryService": "api-canary", "stableService": "api-stable",
                "scaleDownDelaySeconds": 2, "abortScaleDownDelaySeconds": 2,
                "trafficRouting": {"plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "api", "namespace": NS}}},
                "steps": [{"setWeight": 10}, {"pause": {}}, {"setWeight": 50}, {"pause": {}}]}}}});
    [service("api-stable"), service("api-canary"), route, rollout]
        .iter()
        .map(|v| crds::yaml::to_string(v).unwrap())
        .collect::<Vec<_>>()
        .join("---\n")
}

fn routes(cluster: &Cluster) -> Api<DynamicObject> {
    let resource = ApiResource {
        group: "gateway.networking.k8s.io".into(),
        version: "v1".into(),
        api_version: "gateway.networking.k8s.io/v1".into(),
        kind: "HTTPRoute".into(),
        plural: "httproutes".into(),
    };
    Api::namespaced_with(cluster.client.clone(), NS, &resource)
}

/// (stable, canary) weights on the route.
async fn weights(cluster: &Cluster) -> (i64, i64) {
    let route = serde_json::to_value(routes(cluster).get("api").await.unwrap()).unwrap();
    let weight = |i: usize| {
        route["spec"]["rules"][0]["backendRefs"][i]["weight"]
            .as_i64()
            .unwrap_or(-1)
    };
    (weight(0), weight(1))
}

async fn wait_weights(cluster: &Cluster, want: (i64, i64)) {
    let what = format!("route weights {want:?}");
    tests::wait::until_state(
        &what,
        WAIT,
        Duration::from_millis(50),
        || weights(cluster),
        |w| *w == want,
    )
    .await;
}

fn status_weight(r: &crds::Rollout) -> Option<(i32, i32, Option<bool>)> {
    let w = r.status.as_ref()?.canary.as_ref()?.weights.as_ref()?;
    Some((w.canary.weight, w.stable.weight, w.verified))
}

#[tokio::test(flavor = "multi_thread")]
async fn an_httproute_canary_walks_its_weights_and_an_abort_sends_everything_back_to_stable() {
    let cluster = Cluster::start(None).await;
    cluster.apply(&httproute_crd(), NS).await;
    cluster.apply(&manifests(), NS).await;
    let probe = Probe::new(&cluster.client, NS, "api");
    probe.wait_phase(RolloutPhase::Healthy, WAIT).await;
    assert_eq!(weights(&cluster).await, (100, 0));

    probe.set_image("api:2").await;
    let at_10 = probe
        .wait("step 1 with weight 10", WAIT, |r, _| {
            step_of(r) == Some(1) && phase_of(r) == Some(RolloutPhase::Paused)
        })
        .await;
    assert_eq!(weights(&cluster).await, (90, 10));
    assert_eq!(status_weight(&at_10), Some((10, 90, Some(true))));
    // 10% of 4 pods is 1 canary pod (rounded up); stable keeps all 4.
    assert_eq!(
        (probe.counts_of("api:2").await.0, probe.counts_of("api:1").await.0),
        (1, 4)
    );
    // The simulated requests follow the route: the canary pod, one of five, answers 10% of them.
    let canary_hash = at_10.status.clone().unwrap().current_pod_hash.unwrap();
    let share = tests::traffic::canary_share(&cluster.client, &canary_hash).await;
    assert!((share - 0.10).abs() < 0.01, "canary share of requests {share}");

    probe.promote().await;
    probe
        .wait("step 3", WAIT, |r, _| {
            step_of(r) == Some(3) && phase_of(r) == Some(RolloutPhase::Paused)
        })
        .await;
    assert_eq!(weights(&cluster).await, (50, 50));
    assert_eq!(
        (probe.counts_of("api:2").await.0, probe.counts_of("api:1").await.0),
        (2, 4)
    );

    probe.promote().await;
    let done = probe
        .wait("promoted", WAIT, |r, _| {
            let s = r.status.clone().unwrap_or_default();
            s.stable_rs.is_some() && s.stable_rs == s.current_pod_hash && phase_of(r) == Some(RolloutPhase::Healthy)
        })
        .await;
    // The stable Service now selects the new pods and takes all the traffic again.
    let new_hash = done.status.clone().unwrap().current_pod_hash;
    assert_eq!(probe.service_hash("api-stable").await, new_hash);
    wait_weights(&cluster, (100, 0)).await;
    probe
        .wait("the old stable scaled down after its delay", WAIT, |_, sets| {
            sets.iter().filter(|s| s.image == "api:1").all(|s| s.spec == 0)
        })
        .await;

    // The route's weights were written by Sluice's field manager (an update beside the user's
    // create), and only them.
    let route = serde_json::to_value(routes(&cluster).get("api").await.unwrap()).unwrap();
    let managers: Vec<(&str, &str)> = route["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| Some((m["manager"].as_str()?, m["operation"].as_str()?)))
        .collect();
    assert!(managers.contains(&("sluice", "Update")), "{managers:?}");
    assert_eq!(
        route["spec"]["parentRefs"][0]["name"],
        json!("edge"),
        "the user's fields are untouched"
    );

    // A bad version, aborted at 10%: weight 0 first, the canary pod kept for the delay, then gone.
    probe.set_image("api:3-bad").await;
    probe.wait("step 1 again", WAIT, |r, _| step_of(r) == Some(1)).await;
    wait_weights(&cluster, (90, 10)).await;
    probe.abort().await;
    probe.wait_phase(RolloutPhase::Degraded, WAIT).await;
    wait_weights(&cluster, (100, 0)).await;
    probe
        .wait(
            "the canary scaled down after abortScaleDownDelaySeconds",
            WAIT,
            |_, sets| sets.iter().filter(|s| s.image == "api:3-bad").all(|s| s.spec == 0),
        )
        .await;
    assert_eq!(probe.counts_of("api:2").await.0, 4, "stable untouched");
    let aborted = probe.get().await;
    assert_eq!(status_weight(&aborted).map(|w| (w.0, w.1)), Some((0, 100)));
}

fn istio_manifests() -> String {
    let service = |name: &str| {
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})
    };
    let vs = json!({"apiVersion": "networking.istio.io/v1beta1", "kind": "VirtualService", "metadata": {"name": "web"},
        "spec": {"hosts": ["web.example.com"], "http": [
            {"name": "primary", "route": [
                {"destination": {"host": "web-stable"}, "weight": 100},
                {"destination": {"host": "web-canary.default.svc.cluster.local"}, "weight": 0}]},
            {"name": "static", "match": [{"uri": {"prefix": "/static"}}], "route": [{"destination": {"host": "cdn"}}]}]}});
    let rollout = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "web"},
        "spec": {"replicas": 4, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}, "annotations": {"sim.sluice.dev/start-delay": "100ms"}},
                         "spec": {"containers": [{"name": "web", "image": "web:1"}]}},
            "strategy": {"canary": {
                "canaryService": "web-canary", "stableService": "web-stable", "scaleDownDelaySeconds": 1,
                "trafficRouting": {"istio": {"virtualService": {"name": "web", "routes": ["primary"]}}},
                "steps": [{"setWeight": 50}, {"pause": {}}]}}}});
    [service("web-stable"), service("web-canary"), vs, rollout]
        .iter()
        .map(|v| crds::yaml::to_string(v).unwrap())
        .collect::<Vec<_>>()
        .join("---\n")
}

/// (stable, canary) weights of the VirtualService's primary route, and its other route unchanged.
async fn vs_weights(cluster: &Cluster) -> (i64, i64) {
    let resource = ApiResource {
        group: "networking.istio.io".into(),
        version: "v1beta1".into(),
        api_version: "networking.istio.io/v1beta1".into(),
        kind: "VirtualService".into(),
        plural: "virtualservices".into(),
    };
    let api: Api<DynamicObject> = Api::namespaced_with(cluster.client.clone(), NS, &resource);
    let vs = serde_json::to_value(api.get("web").await.unwrap()).unwrap();
    assert_eq!(
        vs["spec"]["http"][1]["route"],
        json!([{"destination": {"host": "cdn"}}])
    );
    let weight = |i: usize| vs["spec"]["http"][0]["route"][i]["weight"].as_i64().unwrap_or(-1);
    (weight(0), weight(1))
}

#[tokio::test(flavor = "multi_thread")]
async fn an_istio_virtual_service_canary_splits_requests_by_weight_not_by_pods() {
    let cluster = Cluster::start(None).await;
    let crd =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/istio/virtualservices.yaml"))
            .unwrap();
    cluster.apply(&crd, NS).await;
    cluster.apply(&istio_manifests(), NS).await;
    let probe = Probe::new(&cluster.client, NS, "web");
    probe.wait_phase(RolloutPhase::Healthy, WAIT).await;
    probe.set_image("web:2").await;
    let paused = probe
        .wait("paused at 50%", WAIT, |r, _| {
            step_of(r) == Some(1) && phase_of(r) == Some(RolloutPhase::Paused)
        })
        .await;
    assert_eq!(vs_weights(&cluster).await, (50, 50));
    // 2 canary pods of 6 are a third of the pods, but they answer half of the requests.
    assert_eq!(
        (probe.counts_of("web:2").await.0, probe.counts_of("web:1").await.0),
        (2, 4)
    );
    let share = tests::traffic::canary_share(
        &cluster.client,
        &paused.status.clone().unwrap().current_pod_hash.unwrap(),
    )
    .await;
    assert!((share - 0.5).abs() < 0.01, "canary share of requests {share}");
    probe.promote().await;
    probe
        .wait("promoted", WAIT, |r, _| {
            let s = r.status.clone().unwrap_or_default();
            s.stable_rs.is_some() && s.stable_rs == s.current_pod_hash && phase_of(r) == Some(RolloutPhase::Healthy)
        })
        .await;
    tests::wait::until_state(
        "the VirtualService weights back at 100/0",
        WAIT,
        Duration::from_millis(50),
        || vs_weights(&cluster),
        |w| *w == (100, 0),
    )
    .await;
}

fn istio_api(cluster: &Cluster, kind: &str, plural: &str) -> Api<DynamicObject> {
    let resource = ApiResource {
        group: "networking.istio.io".into(),
        version: "v1beta1".into(),
        api_version: "networking.istio.io/v1beta1".into(),
        kind: kind.into(),
        plural: plural.into(),
    };
    Api::namespaced_with(cluster.client.clone(), NS, &resource)
}

/// Argo's subset-level example: one root Service, the VirtualService's destinations told apart by
/// subset, and no canaryService or stableService at all.
fn istio_subset_manifests() -> String {
    let root = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "shop"},
        "spec": {"selector": {"app": "shop"}, "ports": [{"port": 80}]}});
    let vs = json!({"apiVersion": "networking.istio.io/v1beta1", "kind": "VirtualService", "metadata": {"name": "shop"},
        "spec": {"hosts": ["shop"], "http": [{"name": "primary", "route": [
            {"destination": {"host": "shop", "subset": "stable"}, "weight": 100},
            {"destination": {"host": "shop", "subset": "canary"}, "weight": 0}]}]}});
    let dr = json!({"apiVersion": "networking.istio.io/v1beta1", "kind": "DestinationRule", "metadata": {"name": "shop"},
        "spec": {"host": "shop", "subsets": [{"name": "canary"}, {"name": "stable"}]}});
    let rollout = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "shop"},
        "spec": {"replicas": 4, "selector": {"matchLabels": {"app": "shop"}},
            "template": {"metadata": {"labels": {"app": "shop"}, "annotations": {"sim.sluice.dev/start-delay": "100ms"}},
                         "spec": {"containers": [{"name": "shop", "image": "shop:1"}]}},
            "strategy": {"canary": {"scaleDownDelaySeconds": 1,
                "trafficRouting": {"istio": {
                    "virtualService": {"name": "shop", "routes": ["primary"]},
                    "destinationRule": {"name": "shop", "canarySubsetName": "canary", "stableSubsetName": "stable"}}},
                "steps": [{"setWeight": 10}, {"pause": {}}]}}}});
    [root, vs, dr, rollout]
        .iter()
        .map(|v| crds::yaml::to_string(v).unwrap())
        .collect::<Vec<_>>()
        .join("---\n")
}

/// The (canary, stable) subsets' pod-template hashes on the DestinationRule.
async fn subset_hashes(cluster: &Cluster) -> (Option<String>, Option<String>) {
    let dr = serde_json::to_value(
        istio_api(cluster, "DestinationRule", "destinationrules")
            .get("shop")
            .await
            .unwrap(),
    )
    .unwrap();
    let hash = |i: usize| {
        dr["spec"]["subsets"][i]["labels"]["rollouts-pod-template-hash"]
            .as_str()
            .map(str::to_owned)
    };
    (hash(0), hash(1))
}

#[tokio::test(flavor = "multi_thread")]
async fn an_istio_subset_canary_labels_the_destination_rule_and_splits_by_subset() {
    let cluster = Cluster::start(None).await;
    for file in ["virtualservices.yaml", "destinationrules.yaml"] {
        let crd =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/istio").join(file)).unwrap();
        cluster.apply(&crd, NS).await;
    }
    cluster.apply(&istio_subset_manifests(), NS).await;
    let probe = Probe::new(&cluster.client, NS, "shop");
    let first = probe.wait_phase(RolloutPhase::Healthy, WAIT).await;
    let stable = first.status.unwrap().stable_rs;
    tests::wait::until_state(
        "both DestinationRule subsets on the stable hash",
        WAIT,
        Duration::from_millis(50),
        || subset_hashes(&cluster),
        |seen| *seen == (stable.clone(), stable.clone()),
    )
    .await;
    probe.set_image("shop:2").await;
    let paused = probe
        .wait("paused at 10%", WAIT, |r, _| {
            step_of(r) == Some(1) && phase_of(r) == Some(RolloutPhase::Paused)
        })
        .await;
    let canary = paused.status.clone().unwrap().current_pod_hash;
    assert_eq!(subset_hashes(&cluster).await, (canary.clone(), stable.clone()));
    let vs = serde_json::to_value(
        istio_api(&cluster, "VirtualService", "virtualservices")
            .get("shop")
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(vs["spec"]["http"][0]["route"][1]["weight"], json!(10));
    // One canary pod of five, a tenth of the requests.
    let share = tests::traffic::canary_share(&cluster.client, canary.as_deref().unwrap()).await;
    assert!((share - 0.10).abs() < 0.02, "canary share of requests {share}");
    probe.promote().await;
    probe
        .wait("promoted", WAIT, |r, _| {
            let s = r.status.clone().unwrap_or_default();
            s.stable_rs.is_some() && s.stable_rs == s.current_pod_hash && phase_of(r) == Some(RolloutPhase::Healthy)
        })
        .await;
    tests::wait::until_state(
        "both DestinationRule subsets on the promoted hash",
        WAIT,
        Duration::from_millis(50),
        || subset_hashes(&cluster),
        |seen| *seen == (canary.clone(), canary.clone()),
    )
    .await;
}
