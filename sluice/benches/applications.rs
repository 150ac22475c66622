//! Benchmark of the GitOps half, each figure printed next to a floor measured in the same run:
//! a `sluice controller` process, `sluice sim` and `git daemon` on loopback.
//!
//! 1. push → applied, by webhook and by polling (`--repo-poll-interval 2s`), p50/p95 over
//!    `SLUICE_BENCH_PUSHES` pushes (default 20); floor: `kubectl apply --server-side` of the file.
//! 2. first sync of an Application with `SLUICE_BENCH_RESOURCES` resources (default 1,000): wall
//!    time and API requests; floor: `kubectl apply --server-side` of the same rendered files.
//! 3. an unchanged Application re-compared for 10 s: API requests (goal 0) and controller CPU.
//! 4. controller memory with `SLUICE_BENCH_APPS` Applications (default 100) of 50 resources each;
//!    floor: the same controller before any Application.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::SimProcess;
use support::gitops::{ControllerProcess, app, apply, cluster, states};
use tests::git::{GitDaemon, GitRepo};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn cm(name: &str, value: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  value: \"{value}\"\n")
}

fn application(name: &str, url: &str, path: &str, namespace: &str) -> Value {
    json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": name, "namespace": "argocd"},
        "spec": {
            "source": {"repoURL": url, "path": path, "targetRevision": "main"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace},
            "syncPolicy": {"automated": {"prune": true}, "syncOptions": ["CreateNamespace=true"]},
        }
    })
}

fn percentile(samples: &mut [f64], p: f64) -> f64 {
    samples.sort_by(f64::total_cmp);
    let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples.get(i).copied().unwrap_or(0.0)
}

fn proc_cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or_default().split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn proc_rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

async fn synced_at(client: &kube::Client, name: &str, sha: &str, timeout: Duration) -> Instant {
    let deadline = Instant::now() + timeout;
    loop {
        let a = app(client, name).await;
        if a["status"]["sync"]["revision"] == sha && states(&a).2 == "Succeeded" {
            return Instant::now();
        }
        assert!(Instant::now() < deadline, "{name} did not sync {sha}: {}", a["status"]);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// `kubectl apply --server-side -f FILE`: seconds and API requests (counted from `-v=6`).
fn kubectl_apply(sim: &SimProcess, file: &std::path::Path, namespace: &str) -> (f64, usize) {
    let started = Instant::now();
    let out = Command::new("kubectl")
        .args([
            "apply",
            "--server-side",
            "--field-manager",
            "floor",
            "-v=6",
            "-n",
            namespace,
            "-f",
        ])
        .arg(file)
        .arg("--cache-dir")
        .arg(sim.dir.path().join("kubectl-cache"))
        .env("KUBECONFIG", sim.kubeconfig())
        .output()
        .unwrap();
    let elapsed = started.elapsed().as_secs_f64();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let log = String::from_utf8_lossy(&out.stderr);
    let requests = log
        .lines()
        .filter(|l| {
            l.contains(" in ")
                && l.contains("http")
                && (l.contains(" OK") || l.contains(" Created") || l.contains("Response"))
        })
        .count();
    (elapsed, requests)
}

async fn push_latency(
    sim: &SimProcess,
    client: &kube::Client,
    repo: &GitRepo,
    daemon: &GitDaemon,
    port: u16,
    pushes: usize,
) {
    let http = reqwest::Client::new();
    let mut webhook = Vec::new();
    let mut polling = Vec::new();
    let mut floor = Vec::new();
    let file = sim.dir.path().join("latency.yaml");
    for i in 0..pushes * 2 {
        let text = cm("latency", &i.to_string());
        let sha = repo.commit(&[("latency/cm.yaml", &text)], &format!("push {i}"));
        // From the moment `git push` returned.
        let pushed = Instant::now();
        let by_webhook = i % 2 == 0;
        if by_webhook {
            let body = json!({"ref": "refs/heads/main", "repository": {"clone_url": daemon.url("apps")}, "commits": [{"modified": ["latency/cm.yaml"]}]});
            let response = http
                .post(format!("http://127.0.0.1:{port}/api/webhook"))
                .header("X-GitHub-Event", "push")
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
        }
        let done = synced_at(client, "latency", &sha, Duration::from_secs(30)).await;
        let seconds = done.duration_since(pushed).as_secs_f64();
        if by_webhook {
            webhook.push(seconds);
            std::fs::write(&file, &text).unwrap();
            floor.push(kubectl_apply(sim, &file, "floor").0);
        } else {
            polling.push(seconds);
        }
    }
    let p = |v: &mut Vec<f64>, q| percentile(v, q) * 1000.0;
    println!(
        "push -> applied, webhook ({pushes} pushes): p50 {:.0} ms, p95 {:.0} ms | floor kubectl apply --server-side p50 {:.0} ms | goal <= 1 s",
        p(&mut webhook, 0.5),
        p(&mut webhook, 0.95),
        p(&mut floor, 0.5)
    );
    println!(
        "push -> applied, polling every 2 s ({pushes} pushes): p50 {:.0} ms, p95 {:.0} ms | goal <= poll interval + 1 s = 3000 ms",
        p(&mut polling, 0.5),
        p(&mut polling, 0.95)
    );
}

#[tokio::main]
async fn main() {
    let pushes = env("SLUICE_BENCH_PUSHES", 20);
    let resources = env("SLUICE_BENCH_RESOURCES", 1000);
    let apps = env("SLUICE_BENCH_APPS", 100);
    let (sim, client) = cluster().await;
    let served = sim.dir.path().join("git");
    std::fs::create_dir_all(&served).unwrap();
    let repo = GitRepo::create(&served, "apps");
    let mut files: Vec<(String, String)> = vec![("latency/cm.yaml".into(), cm("latency", "start"))];
    for i in 0..resources {
        files.push((format!("big/cm-{i:04}.yaml"), cm(&format!("big-{i:04}"), "1")));
    }
    for a in 0..apps {
        for r in 0..50 {
            files.push((
                format!("fleet/app-{a:03}/cm-{r:02}.yaml"),
                cm(&format!("fleet-{r:02}"), "1"),
            ));
        }
    }
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(p, c)| (p.as_str(), c.as_str())).collect();
    repo.commit(&borrowed, "benchmark data");
    let daemon = GitDaemon::start(&served);
    let url = daemon.url("apps");
    let controller = ControllerProcess::start(&sim, &["--repo-poll-interval", "2s"]);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_rss = proc_rss_mib(controller.pid());
    apply(
        &client,
        &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "floor"}}),
    )
    .await;
    println!(
        "machine: {} cores",
        std::thread::available_parallelism().map_or(0, usize::from)
    );

    apply(&client, &application("latency", &url, "latency", "latency")).await;
    let first = repo.commit(&[("latency/cm.yaml", &cm("latency", "0-start"))], "start");
    synced_at(&client, "latency", &first, Duration::from_secs(60)).await;
    push_latency(&sim, &client, &repo, &daemon, controller.port, pushes).await;

    // A big Application, against kubectl applying the same files.
    let head = tests::git::git(&repo.work, &["rev-parse", "HEAD"]);
    let before = controller.metric("sluice_app_api_requests_total").await;
    let started = Instant::now();
    apply(&client, &application("big", &url, "big", "big")).await;
    synced_at(&client, "big", &head, Duration::from_secs(600)).await;
    let sync_seconds = started.elapsed().as_secs_f64();
    let sync_requests = controller.metric("sluice_app_api_requests_total").await - before;
    let rendered = sim.dir.path().join("big.yaml");
    let all: String = files
        .iter()
        .filter(|(p, _)| p.starts_with("big/"))
        .map(|(_, c)| format!("---\n{c}"))
        .collect();
    std::fs::write(&rendered, all).unwrap();
    let (floor_seconds, floor_requests) = kubectl_apply(&sim, &rendered, "floor");
    println!(
        "first sync of {resources} resources: {sync_seconds:.2} s, {sync_requests:.0} API requests | floor kubectl apply --server-side {floor_seconds:.2} s, {floor_requests} requests | ratio {:.2}x time, {:.2}x requests | goal <= 1.5x time, <= 1.1x requests",
        sync_seconds / floor_seconds.max(0.001),
        sync_requests / (floor_requests.max(1) as f64)
    );

    // Re-compare of the unchanged Application: polls and reconciles, no API request.
    let requests_before = controller.metric("sluice_app_api_requests_total").await;
    let cpu_before = proc_cpu_seconds(controller.pid());
    tokio::time::sleep(Duration::from_secs(10)).await;
    let requests = controller.metric("sluice_app_api_requests_total").await - requests_before;
    let cpu = proc_cpu_seconds(controller.pid()) - cpu_before;
    println!(
        "unchanged Applications for 10 s (5 polls): {requests:.0} API requests, {:.1}% of a core | floor 0 requests | goal 0 requests",
        cpu * 10.0
    );

    // Memory with many Applications.
    for a in 0..apps {
        apply(
            &client,
            &application(
                &format!("fleet-{a:03}"),
                &url,
                &format!("fleet/app-{a:03}"),
                &format!("fleet-{a:03}"),
            ),
        )
        .await;
    }
    let started = Instant::now();
    for a in 0..apps {
        synced_at(&client, &format!("fleet-{a:03}"), &head, Duration::from_secs(900)).await;
    }
    let rss = proc_rss_mib(controller.pid());
    println!(
        "{apps} Applications, {} resources synced in {:.1} s: controller RSS {rss:.0} MiB | floor: the same controller idle {idle_rss:.0} MiB | +{:.0} MiB",
        apps * 50,
        started.elapsed().as_secs_f64(),
        rss - idle_rss
    );
    drop(controller);
    drop(daemon);
}
