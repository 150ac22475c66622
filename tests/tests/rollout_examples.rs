//! `examples/rollouts/` runs as examples/README.md says: each Rollout is applied unchanged to
//! the simulated cluster (only the web metrics' host is pointed at the workload simulator's
//! metrics endpoint), comes up Healthy, and takes a new version through its steps and analysis;
//! a bad version makes the background analysis abort the canary.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use crds::analysis::AnalysisRun;
use crds::rollout::RolloutPhase;
use kube::Api;
use kube::api::ListParams;
use tests::cluster::Cluster;
use tests::rollouts::{Probe, phase_of};

const WAIT: Duration = Duration::from_secs(60);

/// The example's text, its web metrics asking `metrics` instead of `metrics.example:8080`.
fn example(name: &str, metrics: &str) -> String {
    let path = format!("{}/../examples/rollouts/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .replace("metrics.example:8080", metrics)
}

/// A cluster with the workload simulator's metrics endpoint, and the example applied.
async fn with_example(name: &str) -> (Cluster, tokio::task::JoinHandle<()>) {
    let cluster = Cluster::start(None).await;
    let (addr, metrics) = sim::workloads::metrics_server::serve(
        cluster.client.clone(),
        "127.0.0.1:0",
        sim::workloads::metrics_server::DEFAULT_REQUEST_RATE,
        None,
    )
    .await
    .unwrap();
    cluster.apply(&example(name, &addr.to_string()), "default").await;
    (cluster, metrics)
}

async fn runs(cluster: &Cluster) -> Vec<(String, String)> {
    let api: Api<AnalysisRun> = Api::namespaced(cluster.client.clone(), "default");
    api.list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|r| {
            let phase = r.status.and_then(|s| s.phase).map(|p| format!("{p:?}"));
            (r.metadata.name.unwrap_or_default(), phase.unwrap_or_default())
        })
        .collect()
}

/// Deploys `image` and waits until it is the stable version on all `replicas` pods.
async fn promote_to(rollout: &Probe, image: &str, replicas: i32) {
    rollout.set_image(image).await;
    rollout
        .wait(&format!("{image} to be stable"), WAIT, |r, _| {
            phase_of(r) == Some(RolloutPhase::Healthy)
                && r.status.as_ref().is_some_and(|s| s.stable_rs == s.current_pod_hash)
        })
        .await;
    assert_eq!(rollout.counts_of(image).await, (replicas, replicas));
}

async fn every_run_succeeded(cluster: &Cluster, at_least: usize) {
    let runs = runs(cluster).await;
    assert!(runs.len() >= at_least, "{runs:?}");
    assert!(runs.iter().all(|(_, phase)| phase == "Successful"), "{runs:?}");
}

/// Applies the example, waits for Rollout `name` to be Healthy, takes `image` through its steps
/// to stable on all `replicas` pods, and checks that every AnalysisRun on the way succeeded.
async fn good_version_passes(
    example: &str,
    name: &str,
    image: &str,
    replicas: i32,
) -> (Cluster, tokio::task::JoinHandle<()>, Probe) {
    let (cluster, metrics) = with_example(example).await;
    let rollout = Probe::new(&cluster.client, "default", name);
    rollout.wait_phase(RolloutPhase::Healthy, WAIT).await;
    promote_to(&rollout, image, replicas).await;
    every_run_succeeded(&cluster, 1).await;
    (cluster, metrics, rollout)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_web_metric_canary_takes_a_good_version_through_its_analysis() {
    good_version_passes(
        "canary-web-metric.yaml",
        "checkout",
        "registry.example/checkout:1.1.0",
        4,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_blue_green_rollout_promotes_after_its_pre_promotion_job() {
    let (_cluster, _metrics, rollout) =
        good_version_passes("bluegreen.yaml", "storefront", "registry.example/storefront:1.1.0", 3).await;
    let stable = rollout.get().await.status.unwrap().stable_rs.unwrap();
    assert_eq!(
        rollout.service_hash("storefront-active").await.as_deref(),
        Some(stable.as_str())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_job_metric_canary_passes_its_integration_job() {
    good_version_passes("job-metric.yaml", "billing", "registry.example/billing:1.1.0", 2).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn background_analysis_passes_a_good_version_and_aborts_a_bad_one() {
    let (cluster, _metrics, rollout) =
        good_version_passes("background-analysis.yaml", "search", "registry.example/search:1.1.0", 4).await;

    // The simulated pods of an image tagged `bad` answer 80% of requests.
    rollout.set_image("registry.example/search:1.2.0-bad").await;
    rollout
        .wait("the background analysis to abort", WAIT, |r, _| {
            r.status.as_ref().is_some_and(|s| s.abort == Some(true))
        })
        .await;
    tests::wait::until_state(
        "the stable version back on every pod",
        WAIT,
        Duration::from_millis(100),
        || rollout.counts_of("registry.example/search:1.1.0"),
        |seen| *seen == (4, 4),
    )
    .await;
    rollout.wait_phase(RolloutPhase::Degraded, WAIT).await;
    let runs = runs(&cluster).await;
    assert!(runs.iter().any(|(_, phase)| phase == "Failed"), "{runs:?}");
}
