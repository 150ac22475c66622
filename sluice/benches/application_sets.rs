//! Benchmark of ApplicationSets and sharding, each figure next to a floor measured in the same
//! run: `sluice controller` processes, `sluice sim` and `git daemon` on loopback.
//!
//! 1. an ApplicationSet with `SLUICE_BENCH_ELEMENTS` list elements (default 500): wall time until
//!    every generated Application is Synced and Healthy (each creates its namespace and one
//!    ConfigMap), the controller's API requests and RSS; floor: `kubectl apply --server-side` of
//!    the namespaces and ConfigMaps those Applications write, into a simulator with no controller.
//! 2. the same set spread over two clusters (the hub and a second simulator) managed by two
//!    replicas with `--shards 2`, one cluster each: wall time and each replica's API requests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use gitops::shard::{Shard, ShardBy};
use kube::api::{DynamicObject, ListParams};
use serde_json::{Value, json};
use support::SimProcess;
use support::gitops::{ControllerProcess, admin, apply, cluster, dynamic};
use tests::git::{GitDaemon, GitRepo};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {value: \"1\"}\n";

fn appset(url: &str, elements: &[Value]) -> Value {
    json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationSet",
    "metadata": {"name": "fleet", "namespace": "argocd"},
    "spec": {
        "generators": [{"list": {"elements": elements}}],
        "template": {
            "metadata": {"name": "{{name}}"},
            "spec": {
                "project": "default",
                "source": {"repoURL": url, "path": "settings", "targetRevision": "main"},
                "destination": {"name": "{{cluster}}", "namespace": "{{name}}"},
                "syncPolicy": {"automated": {"prune": true}, "syncOptions": ["CreateNamespace=true"]}
            }
        }
    }})
}

fn proc_rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Waits until `count` Applications are Synced and Healthy; the seconds it took from `started`.
async fn all_synced(client: &kube::Client, count: usize, started: Instant) -> f64 {
    let probe = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": "x", "namespace": "argocd"}});
    let api: kube::Api<DynamicObject> = dynamic(client, &probe).await;
    let deadline = started + Duration::from_secs(1200);
    loop {
        let apps = api.list(&ListParams::default()).await.unwrap().items;
        let done = apps
            .iter()
            .filter(|a| {
                let status = &a.data["status"];
                status["sync"]["status"] == "Synced" && status["health"]["status"] == "Healthy"
            })
            .count();
        if done >= count {
            return started.elapsed().as_secs_f64();
        }
        assert!(Instant::now() < deadline, "{done} of {count} Applications synced");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `kubectl apply --server-side` of what the Applications write (a namespace and a ConfigMap
/// each), into a simulator with no controller: seconds.
fn floor(elements: usize) -> f64 {
    let sim = SimProcess::start();
    let mut text = String::new();
    for i in 0..elements {
        text.push_str(&format!(
            "---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: app-{i:04}}}\n---\n{}",
            CM.replace("name: settings", &format!("name: settings, namespace: app-{i:04}"))
        ));
    }
    let file = sim.dir.path().join("floor.yaml");
    std::fs::write(&file, text).unwrap();
    let started = Instant::now();
    let out = Command::new("kubectl")
        .args(["apply", "--server-side", "--field-manager", "floor", "-f"])
        .arg(&file)
        .arg("--cache-dir")
        .arg(sim.dir.path().join("kubectl-cache"))
        .env("KUBECONFIG", sim.kubeconfig())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    started.elapsed().as_secs_f64()
}

fn address_in_shard(want: u32) -> String {
    let shard = Shard {
        index: want,
        count: 2,
        by: ShardBy::Cluster,
    };
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if shard.owns(&format!("https://127.0.0.1:{port}"), "argocd", "any") {
            return format!("127.0.0.1:{port}");
        }
    }
}

fn repository(hub: &SimProcess) -> (GitRepo, GitDaemon) {
    let served = hub.dir.path().join("git");
    std::fs::create_dir_all(&served).unwrap();
    let repo = GitRepo::create(&served, "config");
    repo.commit(&[("settings/cm.yaml", CM)], "settings");
    let daemon = GitDaemon::start(&served);
    (repo, daemon)
}

async fn one_replica(elements: usize) -> f64 {
    let (hub, client) = cluster().await;
    let (_repo, daemon) = repository(&hub);
    let controller = ControllerProcess::start(&hub, &["--repo-poll-interval", "5s"]);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = proc_rss_mib(controller.pid());
    let list: Vec<Value> = (0..elements)
        .map(|i| json!({"name": format!("app-{i:04}"), "cluster": "in-cluster"}))
        .collect();
    let started = Instant::now();
    apply(&client, &appset(&daemon.url("config"), &list)).await;
    let seconds = all_synced(&client, elements, started).await;
    let requests = controller.metric("sluice_app_api_requests_total").await;
    let rss = proc_rss_mib(controller.pid());
    let floor = floor(elements);
    println!(
        "ApplicationSet, {elements} elements -> {elements} Applications Synced and Healthy: {seconds:.1} s, {requests:.0} API requests, controller RSS {rss:.0} MiB (idle {idle:.0} MiB) | floor kubectl apply --server-side of their namespaces and ConfigMaps {floor:.1} s | ratio {:.2}x",
        seconds / floor.max(0.001)
    );
    drop(daemon);
    seconds
}

async fn two_shards(elements: usize, single: f64) {
    let (hub, client) = cluster().await;
    let remote = SimProcess::start_at(&address_in_shard(1), &["--authz"]);
    let _remote_client = admin(&remote).await;
    let kubeconfig: Value = serde_yaml::from_str(&std::fs::read_to_string(remote.kubeconfig()).unwrap()).unwrap();
    let config = json!({"bearerToken": kubeconfig["users"][0]["user"]["token"],
        "tlsClientConfig": {"caData": kubeconfig["clusters"][0]["cluster"]["certificate-authority-data"]}});
    apply(&client, &json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "cluster-remote", "namespace": "argocd", "labels": {"argocd.argoproj.io/secret-type": "cluster"}},
        "stringData": {"name": "remote", "server": kubeconfig["clusters"][0]["cluster"]["server"], "config": config.to_string()}}))
    .await;
    let (_repo, daemon) = repository(&hub);
    let replica = |shard: &str| {
        ControllerProcess::start(
            &hub,
            &[
                "--repo-poll-interval",
                "5s",
                "--shards",
                "2",
                "--shard",
                shard,
                "--repo-cache",
                &hub.dir.path().join(format!("cache-{shard}")).display().to_string(),
            ],
        )
    };
    let (first, second) = (replica("0"), replica("1"));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let list: Vec<Value> = (0..elements)
        .map(|i| json!({"name": format!("app-{i:04}"), "cluster": if i % 2 == 0 { "in-cluster" } else { "remote" }}))
        .collect();
    let started = Instant::now();
    apply(&client, &appset(&daemon.url("config"), &list)).await;
    let seconds = all_synced(&client, elements, started).await;
    println!(
        "sharded: {elements} Applications over 2 clusters, 2 replicas (--shards 2): {seconds:.1} s; API requests replica 0 {:.0}, replica 1 {:.0}, RSS {:.0} / {:.0} MiB | floor: one replica, one cluster, same set {single:.1} s | ratio {:.2}x",
        first.metric("sluice_app_api_requests_total").await,
        second.metric("sluice_app_api_requests_total").await,
        proc_rss_mib(first.pid()),
        proc_rss_mib(second.pid()),
        seconds / single.max(0.001)
    );
    drop(daemon);
}

#[tokio::main]
async fn main() {
    let elements = env("SLUICE_BENCH_ELEMENTS", 500);
    println!(
        "machine: {} cores",
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    let single = one_replica(elements).await;
    two_shards(elements, single).await;
}
