//! The workload simulator at scale: N ReplicaSets of M pods each until every pod is ready, over the
//! real API (`cargo bench -p sim --bench workloads`; `SLUICE_BENCH_RS` and `SLUICE_BENCH_PODS`
//! change the size, default 1,000 x 10). Prints wall time, API requests, CPU and memory.

// A benchmark program: failing loudly on a broken setup is what it should do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::time::Duration;

use k8s_openapi::api::apps::v1::ReplicaSet;
use kube::Api;
use kube::api::{ListParams, PostParams};
use sim::Sim;

fn env_or(key: &str, default: usize) -> usize {
    std::env::var(key).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// (user + system CPU seconds, peak RSS in KiB) of this process.
fn usage() -> (f64, u64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of /proc/self/stat (11 and 12 after the command name).
    let cpu = (ticks(11) + ticks(12)) / 100.0;
    let hwm = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0);
    (cpu, hwm)
}

#[tokio::main]
async fn main() {
    let sets = env_or("SLUICE_BENCH_RS", 1000);
    let per_set = env_or("SLUICE_BENCH_PODS", 10);
    let sim = Sim::start().await.unwrap();
    let client = sim.client().unwrap();
    let workloads = sim::workloads::runner::spawn(client.clone());
    let api: Api<ReplicaSet> = Api::namespaced(client, "default");
    let (cpu_before, _) = usage();
    let requests_before = sim.requests();
    let started = crds::clock::stopwatch();
    for i in 0..sets {
        let rs: ReplicaSet = serde_json::from_value(serde_json::json!({
            "metadata": {"name": format!("rs-{i:04}")},
            "spec": {"replicas": per_set, "selector": {"matchLabels": {"set": format!("s{i}")}},
                     "template": {"metadata": {"labels": {"set": format!("s{i}")}, "annotations": {"sim.sluice.dev/start-delay": "0s"}},
                                  "spec": {"containers": [{"name": "app", "image": "app:1"}]}}}
        }))
        .unwrap();
        api.create(&PostParams::default(), &rs).await.unwrap();
    }
    let want = i32::try_from(per_set).unwrap();
    loop {
        let ready = api
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .iter()
            .filter(|rs| rs.status.as_ref().is_some_and(|s| s.ready_replicas == Some(want)))
            .count();
        if ready == sets {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1800),
            "not ready after 30 minutes: {ready}/{sets}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let wall = started.elapsed();
    let (cpu_after, peak) = usage();
    let requests = sim.requests() - requests_before;
    println!(
        "workloads: {sets} ReplicaSets x {per_set} pods ready in {wall:.1?}; {requests} API requests ({:.1} per pod); {:.1} CPU s (API server, simulator and this client in one process); peak RSS {} MiB",
        requests as f64 / (sets * per_set) as f64,
        cpu_after - cpu_before,
        peak / 1024
    );
    workloads.abort();
}
