//! Benchmark of automatic revert in Git: a canary whose analysis fails, `SLUICE_BENCH_REVERTS`
//! times (default 10): from the AnalysisRun Failed to the revert commit on the remote, and to the
//! Application Healthy on the reverted revision; next to the floor measured in the same run: a
//! git2 revert and push of a commit of the same kind on the same `git daemon`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::gitops::{ControllerProcess, app, apply, cluster, dynamic, states};
use support::revert::rollout;
use tests::git::{GitDaemon, GitRepo, git};

fn percentile(samples: &mut [f64], p: f64) -> f64 {
    samples.sort_by(f64::total_cmp);
    let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples.get(i).copied().unwrap_or(0.0) * 1000.0
}

async fn failed_runs(client: &kube::Client) -> usize {
    let api = dynamic(
        client,
        &json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisRun", "metadata": {"namespace": "default"}}),
    )
    .await;
    let runs = api.list(&Default::default()).await.unwrap().items;
    runs.iter()
        .filter(|r| serde_json::to_value(r).unwrap()["status"]["phase"] == "Failed")
        .count()
}

async fn poll<F: std::future::Future<Output = bool>>(what: &str, mut check: impl FnMut() -> F) -> Instant {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if check().await {
            return Instant::now();
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::main]
async fn main() {
    let runs: usize = std::env::var("SLUICE_BENCH_REVERTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let (sim, client) = cluster().await;
    let served = sim.dir.path().join("git");
    let (repo, good) = support::revert::first_commit(&served);
    let daemon = GitDaemon::start(&served);
    let _controller = ControllerProcess::start(&sim, &["--max-reverts-per-hour", "1000"]);
    let application: Value = support::revert::application(&daemon.url("apps"), "true", json!({"prune": true}));
    apply(&client, &application).await;
    poll("the known-good revision", || async {
        app(&client, "api").await["metadata"]["annotations"]["sluice.dev/healthy-revision"] == good.as_str()
    })
    .await;

    let (mut pushed, mut healthy) = (Vec::new(), Vec::new());
    for i in 0..runs {
        git(&repo.work, &["pull", "-q", "--rebase", "origin", "main"]);
        let before = failed_runs(&client).await;
        repo.commit(
            &[("api/rollout.yaml", &rollout(&format!("api:2-bad-{i}")))],
            &format!("bad {i}"),
        );
        let failed = poll("the analysis to fail", || async { failed_runs(&client).await > before }).await;
        let subject = format!("Revert \"bad {i}\"");
        let bare = repo.bare.clone();
        let on_remote = poll("the revert on the remote", || {
            let (bare, subject) = (bare.clone(), subject.clone());
            async move { git(&bare, &["log", "-1", "--format=%s", "main"]) == subject }
        })
        .await;
        let revert = git(&repo.bare, &["rev-parse", "main"]);
        let back = poll("Healthy on the revert", || async {
            let a = app(&client, "api").await;
            a["status"]["sync"]["revision"] == revert.as_str() && states(&a).1 == "Healthy"
        })
        .await;
        pushed.push(on_remote.duration_since(failed).as_secs_f64());
        healthy.push(back.duration_since(failed).as_secs_f64());
    }

    // The floor: git2 reverting and pushing a commit of the same kind, on the same daemon.
    let scratch = GitRepo::create(&served, "scratch");
    scratch.commit(&[("api/rollout.yaml", &rollout("api:1"))], "good");
    let cache = repo::RepoCache::new(sim.dir.path().join("floor-cache")).unwrap();
    let access = repo::remote::Access::default();
    let url = daemon.url("scratch");
    let mut floor = Vec::new();
    for i in 0..runs {
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
        repo::revert::revert_and_push(&cache, &request).unwrap();
        floor.push(started.elapsed().as_secs_f64());
    }
    println!(
        "machine: {} cores, {runs} reverts",
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    println!(
        "analysis Failed -> revert commit on the remote: p50 {:.0} ms, p95 {:.0} ms | floor git2 revert + push p50 {:.0} ms | goal <= 1000 ms p50",
        percentile(&mut pushed, 0.5),
        percentile(&mut pushed, 0.95),
        percentile(&mut floor.clone(), 0.5)
    );
    println!(
        "analysis Failed -> Application Healthy on the revert: p50 {:.0} ms, p95 {:.0} ms",
        percentile(&mut healthy, 0.5),
        percentile(&mut healthy, 0.95)
    );
}
