//! The plugin scenario: `kubectl-sluice get rollout NAME -w` while the Rollout is paused and
//! resumed [`ROUNDS`] times; each round runs from the `spec.paused` patch to the redraw showing
//! the new phase; floor: from the same patch to the event's arrival on a watch of this process.
//! The goal is the redraw within 100 ms of that event. The plugin runs as its own binary, the
//! `kubectl-sluice` built beside this one (built here when missing).

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crds::rollout::RolloutPhase;
use futures::StreamExt as _;
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use kube::runtime::{WatchStreamExt as _, watcher};
use serde_json::json;

use super::Sizes;
use crate::harness::{Cluster, Controller};
use crate::stats::{Summary, percentile};
use crate::table::Row;

/// Pause/resume changes per run.
const ROUNDS: usize = 20;

/// The `kubectl-sluice` beside this binary, built by cargo (same profile) when missing.
fn plugin_binary() -> Option<PathBuf> {
    let beside = std::env::current_exe().ok()?.parent()?.join("kubectl-sluice");
    if !beside.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut build = Command::new(cargo);
        build.args(["build", "-q", "-p", "plugin", "--bin", "kubectl-sluice"]);
        if !cfg!(debug_assertions) {
            build.arg("--release");
        }
        let built = build.status().is_ok_and(|s| s.success());
        if !built {
            return None;
        }
    }
    beside.exists().then_some(beside)
}

/// One run: per round, ms from the patch to the watch event and to the redraw.
async fn run_once(plugin: &PathBuf) -> (Vec<f64>, Vec<f64>) {
    let cluster = Cluster::start().await;
    let controller = Controller::start(&cluster, "60s");
    controller.ready().await;
    let api: Api<crds::Rollout> = Api::namespaced(cluster.client.clone(), "default");
    api.create(&PostParams::default(), &super::rollouts::rollout(0, "app:1"))
        .await
        .expect("created");
    super::rollouts::all_healthy(&api, 1, "app:1").await;
    let mut child = Command::new(plugin)
        .arg("--kubeconfig")
        .arg(cluster.kubeconfig())
        .args(["get", "rollout", "app-0", "-w", "-n", "default"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the plugin starts");
    let (tx, rx) = std::sync::mpsc::channel::<(Instant, String)>();
    if let Some(stdout) = child.stdout.take() {
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if tx.send((Instant::now(), line)).is_err() {
                    return;
                }
            }
        });
    }
    let mut phases = Box::pin(
        watcher(api.clone(), watcher::Config::default().fields("metadata.name=app-0"))
            .applied_objects()
            .filter_map(|r| async move { r.ok().and_then(|r| r.status).and_then(|s| s.phase) }),
    );
    let (mut events, mut redraws) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let (paused, phase, shown) = if round % 2 == 0 {
            (true, RolloutPhase::Paused, "Paused")
        } else {
            (false, RolloutPhase::Healthy, "Healthy")
        };
        while rx.try_recv().is_ok() {}
        let patched = Instant::now();
        let _ = api
            .patch(
                "app-0",
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"paused": paused}})),
            )
            .await;
        let seen = loop {
            match tokio::time::timeout(Duration::from_secs(30), phases.next()).await {
                Ok(Some(p)) if p == phase => break Instant::now(),
                Ok(Some(_)) => {}
                _ => break patched,
            }
        };
        let drawn = loop {
            match rx.recv_timeout(Duration::from_secs(10)) {
                Ok((at, line)) if line.starts_with("Status:") && line.contains(shown) => break Some(at),
                Ok(_) => {}
                Err(_) => break None,
            }
        };
        if let Some(drawn) = drawn {
            events.push(seen.duration_since(patched).as_secs_f64() * 1000.0);
            redraws.push(drawn.duration_since(patched).as_secs_f64() * 1000.0);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    (events, redraws)
}

/// The plugin rows, over `sizes.runs` runs; none when `kubectl-sluice` cannot be built.
pub async fn rows(sizes: Sizes) -> Vec<Row> {
    let Some(plugin) = plugin_binary() else {
        eprintln!("kubectl-sluice is not built beside the bench: the plugin scenario is skipped");
        return Vec::new();
    };
    let mut runs = Vec::new();
    for _ in 0..sizes.runs {
        runs.push(run_once(&plugin).await);
    }
    let of = |redraw: bool, p: f64| {
        Summary::of(
            &runs
                .iter()
                .map(|(e, r)| percentile(if redraw { r } else { e }, p))
                .collect::<Vec<_>>(),
        )
    };
    [(0.5, "p50"), (0.95, "p95")]
        .into_iter()
        .map(|(p, name)| Row {
            scenario: "plugin",
            figure: format!("`get rollout -w`: spec.paused patch -> redraw, {name} of {ROUNDS}"),
            unit: "ms",
            value: of(true, p),
            floor: Some((of(false, p), format!("the watch event's own arrival ({name})"))),
            goal: "<= 100 ms after the event",
        })
        .collect()
}
