//! Benchmark: N Rollouts (default 100; `SLUICE_BENCH_ROLLOUTS`, e.g. 1000) each taken through a
//! 4-step canary with zero-length pauses, by a `sluice controller` process against the simulated
//! cluster (API server and workloads in this process). Prints wall time, API writes per Rollout
//! against the minimum the steps require, the controller's CPU seconds and peak memory, and what
//! the controller does once every Rollout is Healthy (it should write nothing).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crds::Rollout;
use crds::rollout::RolloutPhase;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::json;

/// Replicas per Rollout.
const REPLICAS: i32 = 4;
/// Writes the steps need at least: the new ReplicaSet (1), the Rollout's revision (1), the scalings
/// 25% → 75% → 100% (new 1→3→4: 2 after its creation at 1; stable 4→3→1→0: 3), and the status
/// at the template change, each of the 4 steps and the promotion (6).
const MINIMUM_WRITES: u64 = 1 + 1 + 5 + 6;

struct Controller(Child);

impl Drop for Controller {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn proc_cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or_default().split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn proc_peak_rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

async fn writes(port: u16) -> u64 {
    let text = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find(|l| l.starts_with("sluice_rollout_writes_total"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn rollout(i: usize, image: &str) -> Rollout {
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
    .unwrap()
}

/// Whether a Rollout runs `image` and is Healthy on it.
fn done_on(r: &Rollout, image: &str) -> bool {
    let status = r.status.clone().unwrap_or_default();
    let image_now = r
        .spec
        .template
        .as_ref()
        .and_then(|t| t.spec.as_ref())
        .and_then(|s| s.containers[0].image.clone());
    status.phase == Some(RolloutPhase::Healthy)
        && image_now.as_deref() == Some(image)
        && status.stable_rs == status.current_pod_hash
        && status.observed_generation == r.metadata.generation.map(|g| g.to_string())
}

/// Waits until all `n` Rollouts are Healthy on `image`, following a watch (a poll listing every
/// Rollout would cost the simulator time proportional to N for every poll).
async fn wait_all(api: &Api<Rollout>, n: usize, image: &str, started: Instant) {
    use futures::StreamExt as _;
    use kube::runtime::{WatchStreamExt as _, watcher};
    let mut done = std::collections::HashSet::new();
    let mut events = std::pin::pin!(
        watcher(api.clone(), watcher::Config::default())
            .default_backoff()
            .applied_objects()
    );
    while done.len() < n {
        let next = tokio::time::timeout(Duration::from_secs(5), events.next()).await;
        if let Ok(Some(Ok(rollout))) = next {
            let name = rollout.metadata.name.clone().unwrap_or_default();
            if done_on(&rollout, image) {
                done.insert(name);
            } else {
                done.remove(&name);
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(1200),
            "only {}/{n} Healthy on {image}",
            done.len()
        );
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let n: usize = std::env::var("SLUICE_BENCH_ROLLOUTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    sim::tls::ensure_crypto_provider();
    let sim = sim::Sim::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kubeconfig).unwrap();
    let client = sim.client().unwrap();
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in crds::crdgen::all() {
        crds.create(&PostParams::default(), &crd).await.unwrap();
    }
    let workloads = sim::workloads::runner::spawn(client.clone());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["controller", "--leader-elect", "false", "--metrics-addr"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let controller = Controller(child);
    let pid = controller.0.id();
    let api: Api<Rollout> = Api::namespaced(client.clone(), "default");

    let start = Instant::now();
    for i in 0..n {
        api.create(&PostParams::default(), &rollout(i, "app:1")).await.unwrap();
    }
    wait_all(&api, n, "app:1", start).await;
    let first_deploy = start.elapsed().as_secs_f64();

    let me = std::process::id();
    let (writes0, cpu0, requests0) = (writes(port).await, proc_cpu_seconds(pid), sim.requests());
    let sim_cpu0 = proc_cpu_seconds(me);
    let start = Instant::now();
    for i in 0..n {
        let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "app:2"}]}}}});
        api.patch(&format!("app-{i}"), &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .unwrap();
    }
    wait_all(&api, n, "app:2", start).await;
    let update = start.elapsed().as_secs_f64();
    let update_writes = writes(port).await - writes0;
    let update_cpu = proc_cpu_seconds(pid) - cpu0;
    let update_requests = sim.requests() - requests0;
    // This process is the simulator (API server and workloads) plus the benchmark's own polling.
    let update_sim_cpu = proc_cpu_seconds(me) - sim_cpu0;

    // Idle: every Rollout Healthy; nothing should be written.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (idle_writes0, idle_cpu0) = (writes(port).await, proc_cpu_seconds(pid));
    let idle = Duration::from_secs(20);
    tokio::time::sleep(idle).await;
    let idle_writes = writes(port).await - idle_writes0;
    let idle_cpu = proc_cpu_seconds(pid) - idle_cpu0;

    println!(
        "rollouts: {n} Rollouts x {REPLICAS} replicas, 4-step canary (25%, pause 0, 75%, pause 0), sluice controller as its own process"
    );
    println!("  first deploy, all Healthy      {first_deploy:.1} s");
    println!("  update, all Healthy again      {update:.1} s");
    #[allow(clippy::cast_precision_loss)]
    let per_rollout_ms = update * 1000.0 / n as f64;
    println!("  update per Rollout             {per_rollout_ms:.1} ms");
    #[allow(clippy::cast_precision_loss)]
    let pods = (n * usize::try_from(REPLICAS).unwrap_or(0)) as f64;
    println!(
        "  simulator CPU for the update   {update_sim_cpu:.1} s ({:.2} ms per pod made ready)",
        update_sim_cpu * 1000.0 / pods
    );
    #[allow(clippy::cast_precision_loss)]
    let per = update_writes as f64 / n as f64;
    println!("  controller writes per Rollout  {per:.1} (minimum the steps require: {MINIMUM_WRITES})");
    #[allow(clippy::cast_precision_loss)]
    let requests_per = update_requests as f64 / n as f64;
    println!("  API requests per Rollout       {requests_per:.1} (controller and workload simulator)");
    println!("  controller CPU for the update  {update_cpu:.1} s");
    println!("  controller peak memory         {:.0} MiB", proc_peak_rss_mib(pid));
    println!(
        "  idle for {} s: writes {idle_writes}, CPU {idle_cpu:.2} s",
        idle.as_secs()
    );
    workloads.abort();
}
