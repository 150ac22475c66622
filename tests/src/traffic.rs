//! Measuring where the simulated requests go: the canary's share of them, read off the
//! simulator's metrics endpoint, and a PromQL query at a given time.

use std::time::Duration;

use kube::Api;
use kube::api::{ApiResource, DynamicObject};

/// A dynamic API for `group/version` `kind` (`plural`) in `namespace`.
#[must_use]
pub fn dynamic_api(
    client: &kube::Client,
    namespace: &str,
    (group, version): (&str, &str),
    kind: &str,
    plural: &str,
) -> Api<DynamicObject> {
    let resource = ApiResource {
        group: group.into(),
        version: version.into(),
        api_version: format!("{group}/{version}"),
        kind: kind.into(),
        plural: plural.into(),
    };
    Api::namespaced_with(client.clone(), namespace, &resource)
}

/// The canary's share of the requests answered between two scrapes of the simulator's metrics.
pub async fn canary_share(client: &kube::Client, canary_hash: &str) -> f64 {
    let (addr, server) = sim::workloads::metrics_server::serve(client.clone(), "127.0.0.1:0", 10.0, None)
        .await
        .unwrap();
    let label = format!("rollouts_pod_template_hash=\"{canary_hash}\"");
    let scrape = || async {
        let text = reqwest::get(format!("http://{addr}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let mut totals = (0.0, 0.0);
        for line in text.lines().filter(|l| l.starts_with("http_requests_total{")) {
            let value: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
            if line.contains(&label) {
                totals.0 += value;
            }
            totals.1 += value;
        }
        totals
    };
    // The server's caches fill from its watches first.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = scrape().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = scrape().await;
    server.abort();
    (after.0 - before.0) / (after.1 - before.1)
}

/// The value of the instant `query` at `time` (Unix seconds) from the Prometheus at `url`, `None`
/// when the result is empty.
pub async fn prometheus_value(url: &str, query: &str, time: f64) -> Option<f64> {
    let body: serde_json::Value = reqwest::Client::new()
        .get(format!("{url}/api/v1/query"))
        .query(&[("query", query.to_owned()), ("time", time.to_string())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["data"]["result"][0]["value"][1].as_str()?.parse().ok()
}
