//! Benchmark: N concurrent AnalysisRuns (default 1,000; `SLUICE_BENCH_RUNS`) each measuring a
//! Prometheus query 5 times, 1 s apart, against the real Prometheus. Prints queries per second,
//! CPU seconds and peak memory of the process (controller and simulated API server together).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use crds::AnalysisRun;
use crds::analysis::AnalysisPhase;
use kube::Api;
use kube::api::{ListParams, PostParams};
use sim::prometheus::PrometheusServer;
use tests::cluster::Cluster;
use tests::series::push_constant;

const COUNT: i32 = 5;

fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or_default().split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let runs: usize = std::env::var("SLUICE_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let prometheus = PrometheusServer::start().await.unwrap();
    push_constant(
        &prometheus.remote_write_url(),
        "success_rate",
        &[("version", "good")],
        0.97,
    )
    .await;
    let cluster = Cluster::start(Some(prometheus.url())).await;
    let api: Api<AnalysisRun> = Api::namespaced(cluster.client.clone(), "default");
    let template: AnalysisRun = serde_yaml::from_str(&format!(
        "apiVersion: argoproj.io/v1alpha1\nkind: AnalysisRun\nmetadata:\n  name: x\nspec:\n  metrics:\n  - name: rate\n    interval: 1s\n    count: {COUNT}\n    successCondition: result[0] >= 0.95\n    provider:\n      prometheus:\n        query: success_rate{{version=\"good\"}}\n"
    ))
    .unwrap();
    let (cpu0, start) = (cpu_seconds(), Instant::now());
    for i in 0..runs {
        let mut run = template.clone();
        run.metadata.name = Some(format!("run-{i}"));
        api.create(&PostParams::default(), &run).await.unwrap();
    }
    let created = start.elapsed();
    loop {
        let list = api.list(&ListParams::default()).await.unwrap();
        let done = list
            .items
            .iter()
            .filter(|r| r.status.as_ref().and_then(|s| s.phase) == Some(AnalysisPhase::Successful))
            .count();
        if done == runs {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(900),
            "only {done}/{runs} runs finished"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let wall = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    let queries = runs as f64 * f64::from(COUNT);
    println!("analysis_runs: {runs} runs x {COUNT} measurements (1 s apart) against a real Prometheus");
    println!("  created in            {:.1} s", created.as_secs_f64());
    println!(
        "  all Successful after  {wall:.1} s (ideal: {} s after the last create)",
        COUNT - 1
    );
    println!("  queries per second    {:.0}", queries / wall);
    println!("  CPU                   {cpu:.1} s (controller + simulated API server, one process)");
    println!("  peak memory           {:.0} MiB", peak_rss_mib());
    println!("  API requests          {}", cluster.sim.requests());
}
