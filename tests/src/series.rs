//! Pushing hand-made series into a real Prometheus through remote write.

use std::time::Duration;

use sim::workloads::remote_write::{self, Label, Sample, TimeSeries};

/// Pushes `value` for the series `name{labels}` every 15 s over the last ten minutes.
pub async fn push_constant(remote_write_url: &str, name: &str, labels: &[(&str, &str)], value: f64) {
    sim::tls::ensure_crypto_provider();
    let now = crds::clock::system().now().as_millisecond();
    let mut all: Vec<Label> = labels
        .iter()
        .map(|(n, v)| Label {
            name: (*n).to_string(),
            value: (*v).to_string(),
        })
        .collect();
    all.push(Label {
        name: "__name__".to_string(),
        value: name.to_string(),
    });
    all.sort_by(|a, b| a.name.cmp(&b.name));
    let step = i64::try_from(Duration::from_secs(15).as_millis()).unwrap();
    let samples = (0..40)
        .rev()
        .map(|i| Sample {
            value,
            timestamp: now - i * step,
        })
        .collect();
    let series = vec![TimeSeries { labels: all, samples }];
    remote_write::push(&reqwest::Client::new(), remote_write_url, series)
        .await
        .unwrap();
}

/// Pushes ten minutes of request history of the ready pods with pod-template hash `hash` in
/// `namespace` (as the workload simulator makes them serve), so `rate(...[5m])` over them answers at
/// once. Each version's history can be pushed once (Prometheus refuses older samples afterwards).
pub async fn push_pod_history(client: &kube::Client, remote_write_url: &str, namespace: &str, hash: &str) {
    sim::tls::ensure_crypto_provider();
    let pods: kube::Api<k8s_openapi::api::core::v1::Pod> = kube::Api::namespaced(client.clone(), namespace);
    let now = crds::clock::system().now();
    let series: Vec<_> = pods
        .list(&kube::api::ListParams::default())
        .await
        .unwrap()
        .items
        .iter()
        .filter_map(|p| sim::workloads::metrics::series(p, now))
        .filter(|series| series.hash == hash)
        // As if every pod had been serving for the whole window, so rate() has data at once.
        .map(|mut series| {
            series.serving_seconds = 900.0;
            series
        })
        .collect();
    assert!(!series.is_empty(), "no ready pod in {namespace} to push history for");
    let history = remote_write::history(&series, 10.0, now, Duration::from_secs(600), Duration::from_secs(15));
    remote_write::push(&reqwest::Client::new(), remote_write_url, history)
        .await
        .unwrap();
}
