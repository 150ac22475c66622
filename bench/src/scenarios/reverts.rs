//! The revert scenarios: an Application with auto-revert over a canary Rollout whose analysis (a
//! Job that exits 1) always fails; each round pushes a bad image and measures from the
//! AnalysisRun Failed
//! - to the revert commit on the remote; floor: git2 (the `repo` crate) reverting and pushing a
//!   commit of the same kind on the same `git daemon`;
//! - to the Application Healthy on the reverted revision; floor: the same Rollout outside Git,
//!   its image patched back to stable the moment its analysis fails (the Rollout's own
//!   fast-track back to its stable ReplicaSet).

use std::time::{Duration, Instant};

use kube::Api;
use kube::api::{DynamicObject, Patch, PatchParams};
use serde_json::{Value, json};
use tests::git::{GitDaemon, GitRepo, git};
use tests::revert::{CHECK, application, first_commit, rollout};

use super::Sizes;
use crate::harness::{Cluster, Controller, Scratch, until};
use crate::stats::{Summary, percentile};
use crate::table::Row;

/// Checks `check` every 5 ms until it holds; when it did.
///
/// # Panics
/// After two minutes: a latency scenario has no figure without it.
async fn waited<F: std::future::Future<Output = bool>>(what: &str, check: impl FnMut() -> F) -> Instant {
    until(Duration::from_secs(120), Duration::from_millis(5), check)
        .await
        .unwrap_or_else(|| panic!("timed out waiting for {what}"))
}

async fn failed_runs(cluster: &Cluster, namespace: &str) -> usize {
    let probe = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisRun", "metadata": {"name": "x", "namespace": namespace}});
    let api = cluster.api(&probe).await;
    api.list(&Default::default()).await.map_or(0, |l| {
        l.items.iter().filter(|r| r.data["status"]["phase"] == "Failed").count()
    })
}

async fn object(api: &Api<DynamicObject>, name: &str) -> Value {
    api.get(name)
        .await
        .ok()
        .and_then(|o| serde_json::to_value(o).ok())
        .unwrap_or_default()
}

/// One run's latencies, ms.
#[derive(Default)]
struct Run {
    pushed: Vec<f64>,
    healthy: Vec<f64>,
    floor_push: Vec<f64>,
    floor_healthy: Vec<f64>,
}

/// The rounds through Git: bad commit, analysis Failed, revert on the remote, Healthy.
async fn through_git(cluster: &Cluster, rounds: usize, run: &mut Run) {
    let served = Scratch::new("revert-git");
    let (repo, good) = first_commit(served.path());
    let daemon = GitDaemon::start(served.path());
    cluster
        .apply(&application(&daemon.url("apps"), "true", json!({"prune": true})))
        .await;
    let probe = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": "api", "namespace": "argocd"}});
    let apps = cluster.api(&probe).await;
    waited("the known-good revision", || async {
        object(&apps, "api").await["metadata"]["annotations"]["sluice.dev/healthy-revision"] == good.as_str()
    })
    .await;
    for i in 0..rounds {
        git(&repo.work, &["pull", "-q", "--rebase", "origin", "main"]);
        let before = failed_runs(cluster, "default").await;
        repo.commit(
            &[("api/rollout.yaml", &rollout(&format!("api:2-bad-{i}")))],
            &format!("bad {i}"),
        );
        let failed = waited("the analysis to fail", || async {
            failed_runs(cluster, "default").await > before
        })
        .await;
        let subject = format!("Revert \"bad {i}\"");
        let on_remote = waited("the revert on the remote", || async {
            git(&repo.bare, &["log", "-1", "--format=%s", "main"]) == subject
        })
        .await;
        let revert = git(&repo.bare, &["rev-parse", "main"]);
        let back = waited("Healthy on the revert", || async {
            let app = object(&apps, "api").await;
            app["status"]["sync"]["revision"] == revert.as_str() && app["status"]["health"]["status"] == "Healthy"
        })
        .await;
        run.pushed.push(on_remote.duration_since(failed).as_secs_f64() * 1000.0);
        run.healthy.push(back.duration_since(failed).as_secs_f64() * 1000.0);
    }
    floor_push(&daemon, served.path(), rounds, run);
}

/// git2 reverting and pushing commits of the same kind on the same daemon.
fn floor_push(daemon: &GitDaemon, served: &std::path::Path, rounds: usize, run: &mut Run) {
    let scratch = GitRepo::create(served, "scratch");
    scratch.commit(&[("api/rollout.yaml", &rollout("api:1"))], "good");
    let cache_dir = Scratch::new("revert-floor");
    let cache = repo::RepoCache::new(cache_dir.path().to_path_buf()).expect("a cache");
    let access = repo::remote::Access::default();
    let url = daemon.url("scratch");
    for i in 0..rounds {
        git(&scratch.work, &["pull", "-q", "--rebase", "origin", "main"]);
        let bad = scratch.commit(
            &[("api/rollout.yaml", &rollout(&format!("api:2-bad-{i}")))],
            &format!("bad {i}"),
        );
        let culprits = [repo::revert::Culprit {
            sha: bad,
            message: format!("Revert \"bad {i}\"\n"),
            only: None,
        }];
        let request = repo::revert::Request {
            url: &url,
            access: &access,
            branch: "main",
            culprits: &culprits,
            author_name: "floor",
            author_email: "floor@localhost",
            attempts: 3,
            squash: None,
        };
        let started = Instant::now();
        repo::revert::revert_and_push(&cache, &request).expect("git2 reverts and pushes");
        run.floor_push.push(started.elapsed().as_secs_f64() * 1000.0);
    }
}

/// Whether the Rollout `api` runs `image` and is Healthy on it.
async fn healthy_on(rollouts: &Api<DynamicObject>, image: &str) -> bool {
    let r = object(rollouts, "api").await;
    r["status"]["phase"] == "Healthy"
        && r["spec"]["template"]["spec"]["containers"][0]["image"] == image
        && r["status"]["stableRS"] == r["status"]["currentPodHash"]
}

/// The same Rollout outside Git in namespace `floor`: each round its image goes bad and, once
/// its analysis failed, back to stable; until Healthy on stable.
async fn floor_fast_track(cluster: &Cluster, rounds: usize, run: &mut Run) {
    cluster
        .apply(&json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "floor"}}))
        .await;
    let file = cluster.dir.path().join("floor-rollout.yaml");
    std::fs::write(&file, format!("{}---\n{CHECK}", rollout("api:1"))).expect("written");
    let _ = cluster.kubectl_apply(&file, Some("floor"));
    let probe = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "api", "namespace": "floor"}});
    let rollouts = cluster.api(&probe).await;
    waited("the floor Rollout Healthy", || healthy_on(&rollouts, "api:1")).await;
    let image =
        |image: String| json!({"spec": {"template": {"spec": {"containers": [{"name": "api", "image": image}]}}}});
    for i in 0..rounds {
        let before = failed_runs(cluster, "floor").await;
        let _ = rollouts
            .patch(
                "api",
                &PatchParams::default(),
                &Patch::Merge(image(format!("api:2-bad-{i}"))),
            )
            .await;
        let failed = waited("the floor analysis to fail", || async {
            failed_runs(cluster, "floor").await > before
        })
        .await;
        let _ = rollouts
            .patch("api", &PatchParams::default(), &Patch::Merge(image("api:1".into())))
            .await;
        let back = waited("the floor Rollout back on stable", || healthy_on(&rollouts, "api:1")).await;
        run.floor_healthy
            .push(back.duration_since(failed).as_secs_f64() * 1000.0);
    }
}

/// Every revert row, over `sizes.runs` runs of `sizes.reverts` rounds.
pub async fn rows(sizes: Sizes) -> Vec<Row> {
    let mut runs = Vec::new();
    for _ in 0..sizes.runs {
        let mut run = Run::default();
        let cluster = Cluster::start().await;
        let controller = Controller::start_with(
            &cluster,
            &["--repo-poll-interval", "1s", "--max-reverts-per-hour", "1000"],
        );
        controller.ready().await;
        floor_fast_track(&cluster, sizes.reverts, &mut run).await;
        through_git(&cluster, sizes.reverts, &mut run).await;
        runs.push(run);
    }
    let of =
        |f: fn(&Run) -> &Vec<f64>, p: f64| Summary::of(&runs.iter().map(|r| percentile(f(r), p)).collect::<Vec<_>>());
    let n = sizes.reverts;
    vec![
        Row {
            scenario: "revert",
            figure: format!("analysis Failed -> revert commit on the remote, p50 of {n}"),
            unit: "ms",
            value: of(|r| &r.pushed, 0.5),
            floor: Some((
                of(|r| &r.floor_push, 0.5),
                "git2 revert + push of that commit (p50)".into(),
            )),
            goal: "<= 1 s p50",
        },
        Row {
            scenario: "revert",
            figure: format!("analysis Failed -> revert commit on the remote, p95 of {n}"),
            unit: "ms",
            value: of(|r| &r.pushed, 0.95),
            floor: Some((
                of(|r| &r.floor_push, 0.95),
                "git2 revert + push of that commit (p95)".into(),
            )),
            goal: "-",
        },
        Row {
            scenario: "revert",
            figure: format!("analysis Failed -> Application Healthy on stable, p50 of {n}"),
            unit: "ms",
            value: of(|r| &r.healthy, 0.5),
            floor: Some((
                of(|r| &r.floor_healthy, 0.5),
                "the Rollout's own fast-track back to stable (p50)".into(),
            )),
            goal: "<= 1.2x",
        },
    ]
}
