//! The application metrics judged by a real Prometheus (Debian's `prometheus`, started here on
//! 127.0.0.1 with its own config and data folder, samples pushed through its remote-write
//! receiver): the seed query gives about 0.97 for a good version and 0.80 for a bad one.

// Test code: a failed unwrap is a failed test, which is what it should be.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use sim::prometheus::PrometheusServer;
use sim::workloads::behaviour::Behaviour;
use sim::workloads::metrics::PodSeries;
use sim::workloads::remote_write;

/// The shared server guard, with a query helper for these tests.
struct Prometheus(PrometheusServer);

impl Prometheus {
    async fn start() -> Self {
        Self(PrometheusServer::start().await.unwrap())
    }

    /// The first sample of an instant query, or `None` while it has no result.
    async fn try_query(&self, promql: &str) -> Option<f64> {
        let response: serde_json::Value = reqwest::Client::new()
            .get(format!("{}/api/v1/query", self.0.url()))
            .query(&[("query", promql)])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .map(|t| serde_json::from_str(&t).unwrap())
            .unwrap();
        response["data"]["result"][0]["value"][1]
            .as_str()
            .map(|v| v.parse().unwrap())
    }

    async fn query(&self, promql: &str) -> f64 {
        self.try_query(promql)
            .await
            .unwrap_or_else(|| panic!("no result for {promql}"))
    }
}

fn pods(hash: &str, image: &str) -> Vec<PodSeries> {
    (0..2)
        .map(|i| PodSeries {
            job: "api".into(),
            namespace: "default".into(),
            pod: format!("api-{hash}-{i}"),
            hash: hash.into(),
            behaviour: Behaviour::of(&Default::default(), image),
            serving_seconds: 900.0,
            requests: 0.0,
        })
        .collect()
}

const SEED: &str =
    r#"sum(rate(http_requests_total{job="api",status!~"5.."}[5m])) / sum(rate(http_requests_total{job="api"}[5m]))"#;

fn by_hash(hash: &str) -> String {
    format!(
        r#"sum(rate(http_requests_total{{job="api",rollouts_pod_template_hash="{hash}",status!~"5.."}}[5m])) / sum(rate(http_requests_total{{job="api",rollouts_pod_template_hash="{hash}"}}[5m]))"#
    )
}

/// Starts a Prometheus holding ten minutes of history of these pods (a sample every 15 s).
async fn prometheus_with(pods: &[PodSeries]) -> Prometheus {
    let prometheus = Prometheus::start().await;
    let series = remote_write::history(
        pods,
        10.0,
        crds::clock::system().now(),
        Duration::from_secs(600),
        Duration::from_secs(15),
    );
    remote_write::push(&reqwest::Client::new(), &prometheus.0.remote_write_url(), series)
        .await
        .unwrap();
    prometheus
}

#[tokio::test]
async fn the_seed_query_gives_0_97_for_a_good_version_and_0_80_for_a_bad_one() {
    let good = prometheus_with(&pods("good1", "api:1.0.0")).await.query(SEED).await;
    assert!((good - 0.97).abs() < 0.005, "good version: {good}");
    let bad = prometheus_with(&pods("bad1", "api:1.1.0-bad")).await.query(SEED).await;
    assert!((bad - 0.80).abs() < 0.005, "bad version: {bad}");
}

#[tokio::test]
async fn filtering_by_pod_template_hash_separates_canary_from_stable() {
    let mut both = pods("stable1", "api:1.0.0");
    both.extend(pods("canary1", "api:1.1.0-bad"));
    let prometheus = prometheus_with(&both).await;
    let stable = prometheus.query(&by_hash("stable1")).await;
    let canary = prometheus.query(&by_hash("canary1")).await;
    assert!((stable - 0.97).abs() < 0.005, "stable: {stable}");
    assert!((canary - 0.80).abs() < 0.005, "canary: {canary}");
    // Unfiltered, the seed query mixes both (equal traffic: the mean).
    let mixed = prometheus.query(SEED).await;
    assert!((mixed - 0.885).abs() < 0.005, "mixed: {mixed}");
}

#[tokio::test]
async fn a_refused_push_reports_prometheus_message() {
    let prometheus = Prometheus::start().await;
    // A series without samples older than anything else is fine; a malformed body is refused.
    let err = reqwest::Client::new()
        .post(format!("{}/api/v1/write", prometheus.0.url()))
        .header("Content-Encoding", "snappy")
        .body("not snappy")
        .send()
        .await
        .unwrap();
    assert_eq!(err.status().as_u16(), 400);
    let bad_url = format!("{}/api/v1/nope", prometheus.0.url());
    let refused = remote_write::push(&reqwest::Client::new(), &bad_url, Vec::new())
        .await
        .unwrap_err();
    assert!(
        matches!(refused, remote_write::PushError::Refused { status: 404, .. }),
        "{refused}"
    );
}

#[tokio::test]
async fn the_simulator_pushes_live_pod_metrics_by_remote_write() {
    use k8s_openapi::api::apps::v1::ReplicaSet;
    use kube::Api;
    use kube::api::PostParams;
    let prometheus = Prometheus::start().await;
    let sim = sim::Sim::start().await.unwrap();
    let client = sim.client().unwrap();
    let workloads = sim::workloads::runner::spawn(client.clone());
    let write_url = format!("{}/api/v1/write", prometheus.0.url());
    let (_, metrics) = sim::workloads::metrics_server::serve(client.clone(), "127.0.0.1:0", 10.0, Some(write_url))
        .await
        .unwrap();
    let rs: ReplicaSet = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "api-v1"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "api"}},
                 "template": {"metadata": {"labels": {"app": "api", "rollouts-pod-template-hash": "v1"},
                                           "annotations": {"sim.sluice.dev/start-delay": "100ms"}},
                              "spec": {"containers": [{"name": "api", "image": "api:1"}]}}}
    }))
    .unwrap();
    Api::<ReplicaSet>::namespaced(client, "default")
        .create(&PostParams::default(), &rs)
        .await
        .unwrap();
    // The pusher runs every 5 s; the pod's series arrive within a couple of pushes.
    let mut found = 0.0;
    for _ in 0..60 {
        let query = r#"count(http_requests_total{job="api",rollouts_pod_template_hash="v1"})"#;
        if let Some(v) = prometheus.try_query(query).await {
            found = v;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(found, 2.0, "one pod, two status series (200 and 500)");
    metrics.abort();
    workloads.abort();
}
