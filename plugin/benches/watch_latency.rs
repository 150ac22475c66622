//! Benchmark: how soon `kubectl-sluice get rollout NAME -w` redraws after the change it shows. The
//! Rollout is paused and resumed repeatedly; for each change the time runs from the moment this
//! process's own watch sees the new phase to the moment the plugin's output shows it (0 when the
//! plugin drew first), and from the patch that caused it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crds::Rollout;
use crds::rollout::RolloutPhase;
use futures::StreamExt;
use kube::Api;
use kube::api::{Patch, PatchParams};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::json;
use tests::cluster::Cluster;
use tests::rollouts::Probe;

const ROUNDS: usize = 20;

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let cluster = Cluster::start(None).await;
    let basic = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/conformance/argo-rollouts/rollout-basic.yaml"
    ))
    .unwrap();
    cluster.apply(&basic, "default").await;
    Probe::new(&cluster.client, "default", "basic")
        .wait_phase(RolloutPhase::Healthy, Duration::from_secs(60))
        .await;
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    cluster.sim.write_kubeconfig(&kubeconfig).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kubectl-sluice"))
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .args(["get", "rollout", "basic", "-w"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // The plugin's output, line by line, with the instant each line arrived.
    let (tx, rx) = std::sync::mpsc::channel::<(Instant, String)>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if tx.send((Instant::now(), line)).is_err() {
                return;
            }
        }
    });
    let api: Api<Rollout> = Api::namespaced(cluster.client.clone(), "default");
    let mut phases = Box::pin(
        watcher(api.clone(), watcher::Config::default().fields("metadata.name=basic"))
            .applied_objects()
            .filter_map(|r| async move { r.ok().and_then(|r| r.status).and_then(|s| s.phase) }),
    );
    let mut latencies = Vec::new();
    let mut end_to_end = Vec::new();
    for round in 0..ROUNDS {
        let (paused, phase, shown) = if round % 2 == 0 {
            (true, RolloutPhase::Paused, "Status:          ॥ Paused")
        } else {
            (false, RolloutPhase::Healthy, "Status:          ✔ Healthy")
        };
        let patched = Instant::now();
        api.patch(
            "basic",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"paused": paused}})),
        )
        .await
        .unwrap();
        let seen = loop {
            if phases.next().await == Some(phase) {
                break Instant::now();
            }
        };
        let drawn = loop {
            let (at, line) = rx.recv_timeout(Duration::from_secs(10)).unwrap();
            if line.contains(shown) {
                break at;
            }
        };
        latencies.push(drawn.saturating_duration_since(seen));
        end_to_end.push(drawn.saturating_duration_since(patched));
    }
    let _ = child.kill();
    let _ = child.wait();
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "get rollout -w: {ROUNDS} changes (pause/resume), from the change reaching a watch to the redraw showing it"
    );
    println!("  median  {:.1} ms", ms(latencies[ROUNDS / 2]));
    println!("  p95     {:.1} ms", ms(latencies[ROUNDS * 95 / 100 - 1]));
    println!("  max     {:.1} ms", ms(latencies[ROUNDS - 1]));
    println!("  goal    100 ms");
    end_to_end.sort();
    println!("from the `spec.paused` patch to the redraw (the controller's reaction included)");
    println!("  median  {:.1} ms", ms(end_to_end[ROUNDS / 2]));
    println!("  max     {:.1} ms", ms(end_to_end[ROUNDS - 1]));
}
