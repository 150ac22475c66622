//! A traffic-routed canary judged by a real Prometheus, end to end on the simulated API server,
//! once through a Gateway API HTTPRoute (the CRD from `../shared/fixtures/gateway-api/`) and once
//! through NGINX (a canary Ingress the Rollout creates from the stable one). The simulated pods'
//! requests follow the router and are pushed to Prometheus; a good version passes its analysis at
//! 10% and answers half of the requests at 50%; a bad one, answering 20% errors, fails its analysis
//! at 10% while only ~4% of all requests fail; the abort sets weight 0 before the canary is scaled
//! down.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::Duration;

use crds::rollout::RolloutPhase;
use kube::Api;
use kube::api::DynamicObject;
use serde_json::{Value, json};
use tests::cluster::Cluster;
use tests::rollouts::{Probe, phase_of, step_of};
use tests::traffic::{canary_share, prometheus_value};

const NS: &str = "default";
const WAIT: Duration = Duration::from_secs(90);

/// The router under test.
#[derive(Clone, Copy, Debug)]
enum Router {
    HttpRoute,
    Nginx,
}

fn yaml(objects: &[Value]) -> String {
    objects
        .iter()
        .map(|v| crds::yaml::to_string(v).unwrap())
        .collect::<Vec<_>>()
        .join("---\n")
}

fn service(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
        "spec": {"selector": {"app": "api"}, "ports": [{"port": 80}]}})
}

/// The canary-only success rate of the founding documents, over 20 s (samples arrive every 5 s).
fn template() -> Value {
    let query = |filter: &str| {
        format!(
            "sum(rate(http_requests_total{{job=\"api\",rollouts_pod_template_hash=\"{{{{args.canary-hash}}}}\"{filter}}}[20s]))"
        )
    };
    json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate", "metadata": {"name": "success-rate"},
        "spec": {"args": [{"name": "canary-hash"}], "metrics": [{"name": "success-rate",
            "initialDelay": "10s", "interval": "5s", "count": 2, "successCondition": "result[0] >= 0.95",
            "provider": {"prometheus": {"query": format!("{} / {}", query(",status!~\"5..\""), query(""))}}}]}})
}

fn manifests(router: Router) -> String {
    let (object, routing) = match router {
        Router::HttpRoute => (
            json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "api"},
                "spec": {"parentRefs": [{"name": "edge"}], "rules": [{"backendRefs": [
                    {"name": "api-stable", "port": 80, "weight": 100}, {"name": "api-canary", "port": 80, "weight": 0}]}]}}),
            json!({"plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "api"}}}),
        ),
        Router::Nginx => (
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                "metadata": {"name": "api", "annotations": {"nginx.ingress.kubernetes.io/ssl-redirect": "false"}},
                "spec": {"ingressClassName": "nginx", "rules": [{"host": "api.example", "http": {"paths": [
                    {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "api-stable", "port": {"number": 80}}}}]}}]}}),
            json!({"nginx": {"stableIngress": "api", "additionalIngressAnnotations": {"canary-by-header": "X-Canary"}}}),
        ),
    };
    let rollout = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "api"},
        "spec": {"replicas": 4, "selector": {"matchLabels": {"app": "api"}},
            "template": {"metadata": {"labels": {"app": "api"}, "annotations": {"sim.sluice.dev/start-delay": "100ms"}},
                         "spec": {"containers": [{"name": "api", "image": "api:1"}]}},
            "strategy": {"canary": {"canaryService": "api-canary", "stableService": "api-stable",
                "scaleDownDelaySeconds": 1, "abortScaleDownDelaySeconds": 5, "trafficRouting": routing,
                "steps": [{"setWeight": 10},
                    {"analysis": {"templates": [{"templateName": "success-rate"}],
                        "args": [{"name": "canary-hash", "valueFrom": {"podTemplateHashValue": "Latest"}}]}},
                    {"setWeight": 50}, {"pause": {}}]}}}});
    yaml(&[
        service("api-stable"),
        service("api-canary"),
        object,
        template(),
        rollout,
    ])
}

fn api(cluster: &Cluster, group: &str, version: &str, kind: &str, plural: &str) -> Api<DynamicObject> {
    tests::traffic::dynamic_api(&cluster.client, NS, (group, version), kind, plural)
}

/// The canary Ingress, if it exists.
async fn canary_ingress(cluster: &Cluster) -> Option<Value> {
    let ingresses = api(cluster, "networking.k8s.io", "v1", "Ingress", "ingresses");
    let found = ingresses.get_opt("api-api-canary").await.unwrap()?;
    Some(serde_json::to_value(found).unwrap())
}

/// The canary's weight on the router.
async fn weight(cluster: &Cluster, router: Router) -> Option<i64> {
    match router {
        Router::HttpRoute => {
            let routes = api(cluster, "gateway.networking.k8s.io", "v1", "HTTPRoute", "httproutes");
            let route = serde_json::to_value(routes.get("api").await.unwrap()).unwrap();
            route["spec"]["rules"][0]["backendRefs"][1]["weight"].as_i64()
        }
        Router::Nginx => {
            let ingress = canary_ingress(cluster).await?;
            ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/canary-weight"]
                .as_str()?
                .parse()
                .ok()
        }
    }
}

async fn wait_weight(cluster: &Cluster, router: Router, want: i64) {
    tests::wait::until_state(
        &format!("the {router:?} canary weight {want}"),
        WAIT,
        Duration::from_millis(50),
        || weight(cluster, router),
        |seen| *seen == Some(want),
    )
    .await;
}

fn promoted(r: &crds::Rollout) -> bool {
    let s = r.status.clone().unwrap_or_default();
    s.stable_rs.is_some() && s.stable_rs == s.current_pod_hash && phase_of(r) == Some(RolloutPhase::Healthy)
}

/// NGINX's canary Ingress: the stable Ingress's rule sent to the canary Service, its class, the
/// extra annotations, none of the stable Ingress's own nginx annotations, owned by the Rollout.
async fn check_canary_ingress(cluster: &Cluster) {
    let ingress = canary_ingress(cluster).await.unwrap();
    assert_eq!(
        ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"],
        "api-canary"
    );
    assert_eq!(ingress["spec"]["ingressClassName"], "nginx");
    let annotations = &ingress["metadata"]["annotations"];
    assert_eq!(annotations["nginx.ingress.kubernetes.io/canary-by-header"], "X-Canary");
    assert_eq!(annotations.get("nginx.ingress.kubernetes.io/ssl-redirect"), None);
    assert_eq!(ingress["metadata"]["ownerReferences"][0]["kind"], "Rollout");
}

/// The AnalysisRun of the canary with pod hash `hash`, its failed measurement (under load an
/// earlier one may be an Error: Prometheus had no sample of the new pod yet).
async fn failed_measurement(cluster: &Cluster, hash: &str) -> crds::analysis::Measurement {
    let runs: Api<crds::AnalysisRun> = Api::namespaced(cluster.client.clone(), NS);
    let run = runs
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|r| r.metadata.name.as_deref().is_some_and(|n| n.contains(hash)))
        .unwrap();
    let measurements = run.status.unwrap().metric_results[0].measurements.clone();
    measurements
        .iter()
        .find(|m| m.phase == Some(crds::analysis::AnalysisPhase::Failed))
        .cloned()
        .unwrap_or_else(|| panic!("no failed measurement in {measurements:?}"))
}

async fn scenario(router: Router) {
    let prometheus = sim::prometheus::PrometheusServer::start().await.unwrap();
    let cluster = Cluster::start(Some(prometheus.url())).await;
    let (_, metrics) = sim::workloads::metrics_server::serve(
        cluster.client.clone(),
        "127.0.0.1:0",
        sim::workloads::metrics_server::DEFAULT_REQUEST_RATE,
        Some(prometheus.remote_write_url()),
    )
    .await
    .unwrap();
    if let Router::HttpRoute = router {
        let crd = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/fixtures/gateway-api/gateway.networking.k8s.io_httproutes.yaml");
        cluster.apply(&std::fs::read_to_string(&crd).unwrap(), NS).await;
    }
    cluster.apply(&manifests(router), NS).await;
    let probe = Probe::new(&cluster.client, NS, "api");
    probe.wait_phase(RolloutPhase::Healthy, WAIT).await;
    wait_weight(&cluster, router, 0).await;
    if let Router::Nginx = router {
        check_canary_ingress(&cluster).await;
    }

    // A good version passes its analysis at 10%; at 50% its 2 pods of 6 answer half the requests.
    probe.set_image("api:2").await;
    let at_50 = probe
        .wait("paused at 50%", WAIT, |r, _| {
            step_of(r) == Some(3) && phase_of(r) == Some(RolloutPhase::Paused)
        })
        .await;
    wait_weight(&cluster, router, 50).await;
    let share = canary_share(
        &cluster.client,
        &at_50.status.clone().unwrap().current_pod_hash.unwrap(),
    )
    .await;
    assert!((share - 0.5).abs() < 0.02, "canary share of requests {share}");
    probe.promote().await;
    probe.wait("2 promoted", WAIT, |r, _| promoted(r)).await;
    wait_weight(&cluster, router, 0).await;

    // The bad version at 10%: its one pod of five answers a tenth of the requests.
    probe.set_image("api:3-bad").await;
    let at_10 = probe.wait("analysing at 10%", WAIT, |r, _| step_of(r) == Some(1)).await;
    wait_weight(&cluster, router, 10).await;
    let bad_hash = at_10.status.clone().unwrap().current_pod_hash.unwrap();
    let share = canary_share(&cluster.client, &bad_hash).await;
    assert!((share - 0.10).abs() < 0.02, "canary share of requests {share}");
    probe.wait_phase(RolloutPhase::Degraded, WAIT).await;
    // The abort: weight 0 at once, while the canary pod stays up for abortScaleDownDelaySeconds.
    wait_weight(&cluster, router, 0).await;
    assert_eq!(
        probe.counts_of("api:3-bad").await.0,
        1,
        "scaled down only after the delay"
    );

    // Prometheus saw the canary fail 20% of its requests, but only ~4% of all requests failed.
    let measurement = failed_measurement(&cluster, &bad_hash).await;
    let measured: Option<f64> = measurement
        .value
        .as_deref()
        .and_then(|v| v.trim_matches(['[', ']']).parse().ok());
    assert!(measured.is_some_and(|v| (v - 0.8).abs() < 0.02), "{measurement:?}");
    #[allow(clippy::cast_precision_loss)]
    let time = measurement.finished_at.unwrap().0.as_millisecond() as f64 / 1000.0;
    let all = "sum(rate(http_requests_total{job=\"api\",status=~\"5..\"}[20s])) / sum(rate(http_requests_total{job=\"api\"}[20s]))";
    let failing = prometheus_value(prometheus.url(), all, time).await.unwrap();
    assert!(
        (0.025..0.055).contains(&failing),
        "share of all requests failing {failing} (0.03 stable, 0.2 canary; 0.064 if split by pods)"
    );
    probe
        .wait("the canary scaled down", WAIT, |_, sets| {
            sets.iter().filter(|s| s.image == "api:3-bad").all(|s| s.spec == 0)
        })
        .await;
    metrics.abort();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_httproute_canary_is_judged_by_prometheus_on_its_share_of_the_requests() {
    scenario(Router::HttpRoute).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_nginx_canary_is_judged_by_prometheus_on_its_share_of_the_requests() {
    scenario(Router::Nginx).await;
}
