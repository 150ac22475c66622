//! The GitOps scenarios on one cluster per run, a controller process and `git daemon`:
//! - **push to applied** by webhook and by polling, p50/p95; floor: `kubectl apply
//!   --server-side` of the file.
//! - **sync**: first sync of an Application of N resources, wall time and API requests; floor:
//!   `kubectl apply --server-side` of the same files.
//! - **re-sync**: the unchanged Application for a while: API requests (floor 0) and CPU.
//! - **appset**: an ApplicationSet of E list elements until every Application is Synced and
//!   Healthy; floor: `kubectl apply --server-side` of the namespaces and ConfigMaps they write.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tests::git::{GitDaemon, GitRepo};

use super::Sizes;
use crate::harness::{Cluster, Controller, Scratch, until};
use crate::stats::{Summary, percentile};
use crate::table::Row;

const REQUESTS: &str = "sluice_app_api_requests_total";
/// The controller's Git poll interval.
const POLL_SECONDS: u64 = 3;

fn cm(name: &str, namespace: Option<&str>, value: &str) -> String {
    let namespace = namespace.map(|n| format!("\n  namespace: {n}")).unwrap_or_default();
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}{namespace}\ndata:\n  value: \"{value}\"\n")
}

fn application(name: &str, url: &str, path: &str) -> Value {
    json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
    "metadata": {"name": name, "namespace": "argocd"},
    "spec": {
        "source": {"repoURL": url, "path": path, "targetRevision": "main"},
        "destination": {"server": "https://kubernetes.default.svc", "namespace": name},
        "syncPolicy": {"automated": {"prune": true}, "syncOptions": ["CreateNamespace=true"]}
    }})
}

/// Waits until the Application `name` synced `sha`; when, or `None` after `timeout`.
async fn synced(cluster: &Cluster, name: &str, sha: &str, timeout: Duration) -> Option<Instant> {
    let probe = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": name, "namespace": "argocd"}});
    let api = cluster.api(&probe).await;
    until(timeout, Duration::from_millis(5), || async {
        api.get(name).await.is_ok_and(|app| {
            let status = &app.data["status"];
            status["sync"]["revision"] == sha && status["operationState"]["phase"] == "Succeeded"
        })
    })
    .await
}

/// One run's measurements.
#[derive(Default)]
struct Run {
    push_p50: f64,
    push_p95: f64,
    push_floor: f64,
    poll_p50: f64,
    poll_p95: f64,
    sync_seconds: f64,
    sync_requests: f64,
    floor_seconds: f64,
    floor_requests: f64,
    idle_requests: f64,
    idle_cpu_percent: f64,
    set_seconds: f64,
    set_requests: f64,
    set_floor: f64,
    rss: f64,
}

async fn run_once(sizes: Sizes) -> Run {
    let cluster = Cluster::start().await;
    let git = Scratch::new("git");
    let repo = GitRepo::create(git.path(), "apps");
    let mut files: Vec<(String, String)> = vec![("latency/cm.yaml".into(), cm("latency", None, "0"))];
    files.push(("settings/cm.yaml".into(), cm("settings", None, "1")));
    for i in 0..sizes.resources {
        files.push((format!("big/cm-{i:04}.yaml"), cm(&format!("big-{i:04}"), None, "1")));
    }
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(p, c)| (p.as_str(), c.as_str())).collect();
    let head = repo.commit(&borrowed, "benchmark data");
    let daemon = GitDaemon::start(git.path());
    let url = daemon.url("apps");
    let controller = Controller::start(&cluster, &format!("{POLL_SECONDS}s"));
    controller.ready().await;
    let mut run = Run::default();

    // Push to applied, by webhook.
    cluster.apply(&application("latency", &url, "latency")).await;
    let _ = synced(&cluster, "latency", &head, Duration::from_secs(60)).await;
    cluster
        .apply(&json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "floor"}}))
        .await;
    let http = reqwest::Client::new();
    let file = cluster.dir.path().join("latency.yaml");
    let (mut latencies, mut floors) = (Vec::new(), Vec::new());
    for i in 1..=sizes.pushes {
        let text = cm("latency", None, &i.to_string());
        let sha = repo.commit(&[("latency/cm.yaml", &text)], &format!("push {i}"));
        let pushed = Instant::now();
        let body = json!({"ref": "refs/heads/main", "repository": {"clone_url": url}, "commits": [{"modified": ["latency/cm.yaml"]}]});
        let _ = http
            .post(format!("http://127.0.0.1:{}/api/webhook", controller.port))
            .header("X-GitHub-Event", "push")
            .json(&body)
            .send()
            .await;
        if let Some(done) = synced(&cluster, "latency", &sha, Duration::from_secs(30)).await {
            latencies.push(done.duration_since(pushed).as_secs_f64() * 1000.0);
        }
        std::fs::write(&file, &text).unwrap_or_default();
        floors.push(cluster.kubectl_apply(&file, Some("floor")).0 * 1000.0);
    }
    run.push_p50 = percentile(&latencies, 0.5);
    run.push_p95 = percentile(&latencies, 0.95);
    run.push_floor = percentile(&floors, 0.5);

    // Push to applied, by polling (no webhook), at a moment unrelated to the poll.
    let mut polled = Vec::new();
    for i in 1..=sizes.pushes.div_ceil(2) {
        tokio::time::sleep(Duration::from_millis(
            POLL_SECONDS * 700 * i as u64 % (POLL_SECONDS * 1000),
        ))
        .await;
        let text = cm("latency", None, &format!("polled-{i}"));
        let sha = repo.commit(&[("latency/cm.yaml", &text)], &format!("polled push {i}"));
        let pushed = Instant::now();
        if let Some(done) = synced(&cluster, "latency", &sha, Duration::from_secs(POLL_SECONDS * 3)).await {
            polled.push(done.duration_since(pushed).as_secs_f64() * 1000.0);
        }
    }
    run.poll_p50 = percentile(&polled, 0.5);
    run.poll_p95 = percentile(&polled, 0.95);

    // First sync of the big Application, then the same files by kubectl.
    let head = tests::git::git(&repo.work, &["rev-parse", "HEAD"]);
    let before = controller.metric(REQUESTS).await;
    let started = Instant::now();
    cluster.apply(&application("big", &url, "big")).await;
    let _ = synced(&cluster, "big", &head, Duration::from_secs(600)).await;
    run.sync_seconds = started.elapsed().as_secs_f64();
    run.sync_requests = controller.metric(REQUESTS).await - before;
    let rendered = cluster.dir.path().join("big.yaml");
    let all: String = files
        .iter()
        .filter(|(p, _)| p.starts_with("big/"))
        .map(|(_, c)| format!("---\n{c}"))
        .collect();
    std::fs::write(&rendered, all).unwrap_or_default();
    let (seconds, requests) = cluster.kubectl_apply(&rendered, Some("floor"));
    (run.floor_seconds, run.floor_requests) = (seconds, requests as f64);

    // The unchanged Applications, idle.
    let (requests, cpu) = (controller.metric(REQUESTS).await, controller.cpu_seconds());
    tokio::time::sleep(Duration::from_secs(sizes.idle_seconds)).await;
    run.idle_requests = controller.metric(REQUESTS).await - requests;
    run.idle_cpu_percent = (controller.cpu_seconds() - cpu) * 100.0 / sizes.idle_seconds as f64;

    // An ApplicationSet of list elements.
    let elements: Vec<Value> = (0..sizes.elements)
        .map(|i| json!({"name": format!("fleet-{i:04}")}))
        .collect();
    let set = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationSet",
        "metadata": {"name": "fleet", "namespace": "argocd"},
        "spec": {"generators": [{"list": {"elements": elements}}],
            "template": {"metadata": {"name": "{{name}}"}, "spec": {
                "source": {"repoURL": url, "path": "settings", "targetRevision": "main"},
                "destination": {"server": "https://kubernetes.default.svc", "namespace": "{{name}}"},
                "syncPolicy": {"automated": {"prune": true}, "syncOptions": ["CreateNamespace=true"]}}}}});
    let before = controller.metric(REQUESTS).await;
    let started = Instant::now();
    cluster.apply(&set).await;
    let all_synced = || async {
        cluster
            .applications()
            .await
            .iter()
            .filter(|a| a["metadata"]["name"].as_str().is_some_and(|n| n.starts_with("fleet-")))
            .filter(|a| a["status"]["sync"]["status"] == "Synced" && a["status"]["health"]["status"] == "Healthy")
            .count()
            >= sizes.elements
    };
    let _ = until(Duration::from_secs(1200), Duration::from_millis(200), all_synced).await;
    run.set_seconds = started.elapsed().as_secs_f64();
    run.set_requests = controller.metric(REQUESTS).await - before;
    run.rss = controller.rss_mib();
    let mut text = String::new();
    for i in 0..sizes.elements {
        let ns = format!("floor-{i:04}");
        text.push_str(&format!(
            "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n---\n{}",
            cm("settings", Some(&ns), "1")
        ));
    }
    let fleet = cluster.dir.path().join("fleet.yaml");
    std::fs::write(&fleet, text).unwrap_or_default();
    run.set_floor = cluster.kubectl_apply(&fleet, None).0;
    drop(controller);
    drop(daemon);
    run
}

/// Every GitOps row, over `sizes.runs` runs.
pub async fn rows(sizes: Sizes) -> Vec<Row> {
    let mut runs = Vec::new();
    for _ in 0..sizes.runs {
        runs.push(run_once(sizes).await);
    }
    let of = |f: fn(&Run) -> f64| Summary::of(&runs.iter().map(f).collect::<Vec<_>>());
    let (n, e, p) = (sizes.resources, sizes.elements, sizes.pushes);
    vec![
        Row {
            scenario: "push to applied",
            figure: format!("git push -> applied by webhook, p50 of {p} pushes"),
            unit: "ms",
            value: of(|r| r.push_p50),
            floor: Some((of(|r| r.push_floor), "`kubectl apply --server-side` of the file".into())),
            goal: "<= 1 s",
        },
        Row {
            scenario: "push to applied",
            figure: format!("git push -> applied by webhook, p95 of {p} pushes"),
            unit: "ms",
            value: of(|r| r.push_p95),
            floor: Some((
                of(|r| r.push_floor),
                "`kubectl apply --server-side` of the file (p50)".into(),
            )),
            goal: "<= 1 s",
        },
        Row {
            scenario: "push to applied",
            figure: format!(
                "git push -> applied by polling every {POLL_SECONDS} s, p50 of {} pushes",
                p.div_ceil(2)
            ),
            unit: "ms",
            value: of(|r| r.poll_p50),
            floor: Some((
                of(|r| r.push_floor),
                "`kubectl apply --server-side` of the file (p50)".into(),
            )),
            goal: "<= poll interval + 1 s",
        },
        Row {
            scenario: "push to applied",
            figure: format!(
                "git push -> applied by polling every {POLL_SECONDS} s, p95 of {} pushes",
                p.div_ceil(2)
            ),
            unit: "ms",
            value: of(|r| r.poll_p95),
            floor: Some((
                of(|r| r.push_floor),
                "`kubectl apply --server-side` of the file (p50)".into(),
            )),
            goal: "<= poll interval + 1 s",
        },
        Row {
            scenario: "sync",
            figure: format!("first sync of {n} resources: wall time"),
            unit: "s",
            value: of(|r| r.sync_seconds),
            floor: Some((
                of(|r| r.floor_seconds),
                "`kubectl apply --server-side` of the same files".into(),
            )),
            goal: "<= 1.5x",
        },
        Row {
            scenario: "sync",
            figure: format!("first sync of {n} resources: API requests"),
            unit: "",
            value: of(|r| r.sync_requests),
            floor: Some((of(|r| r.floor_requests), "kubectl's requests for the same files".into())),
            goal: "<= 1.1x",
        },
        Row {
            scenario: "re-sync",
            figure: format!("unchanged Applications for {} s: API requests", sizes.idle_seconds),
            unit: "",
            value: of(|r| r.idle_requests),
            floor: Some((Summary::of(&[0.0]), "none".into())),
            goal: "0 requests",
        },
        Row {
            scenario: "re-sync",
            figure: format!("unchanged Applications for {} s: controller CPU", sizes.idle_seconds),
            unit: "% of a core",
            value: of(|r| r.idle_cpu_percent),
            floor: None,
            goal: "-",
        },
        Row {
            scenario: "appset",
            figure: format!("ApplicationSet of {e} elements -> {e} Applications Synced and Healthy"),
            unit: "s",
            value: of(|r| r.set_seconds),
            floor: Some((
                of(|r| r.set_floor),
                "`kubectl apply --server-side` of their namespaces and ConfigMaps".into(),
            )),
            goal: "-",
        },
        Row {
            scenario: "appset",
            figure: format!("ApplicationSet of {e} elements: controller API requests"),
            unit: "",
            value: of(|r| r.set_requests),
            floor: Some((
                Summary::of(&[(e * 2) as f64]),
                "the objects they write (a namespace and a ConfigMap each)".into(),
            )),
            goal: "-",
        },
        Row {
            scenario: "memory",
            figure: format!(
                "controller RSS after the appset ({} Applications, {} resources)",
                e + 2,
                n + e + 1
            ),
            unit: "MiB",
            value: of(|r| r.rss),
            floor: None,
            goal: "-",
        },
    ]
}
