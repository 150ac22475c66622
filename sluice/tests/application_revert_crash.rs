//! Auto-revert survives its controller dying at each step, with two replicas under leader
//! election. Hooks in the served repository stop Sluice's push at the two moments that matter
//! while the test kills the leader there: after the revert commit is made but before the push
//! lands (`pre-receive`, which then refuses it), and after the push landed but before the
//! controller saw the answer or wrote any status (`post-receive`). The other replica takes over
//! each time, and the killed one restarts on its own repository cache. Exactly one revert reaches
//! the branch, and the Application ends Healthy on it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;
use support::SimProcess;
use support::gitops::{ControllerProcess, apply, cluster, states, until, until_app};
use tests::git::{GitDaemon, git};
use tests::revert::rollout;

/// A hook that, once armed, holds Sluice's push (a commit with the revert trailer) until the test
/// says the controller is dead, then lets the push fail (`pre-receive`) or finish (`post-receive`).
fn hook(bare: &Path, name: &str, signals: &Path, refuse: bool) {
    let (armed, waiting, killed) = (
        signals.join(format!("{name}.armed")),
        signals.join(format!("{name}.waiting")),
        signals.join(format!("{name}.killed")),
    );
    let verdict = if refuse { "exit 1" } else { "exit 0" };
    let script = format!(
        "#!/bin/sh\nwhile read old new ref; do\n  if [ -f '{a}' ] && git log -1 --format=%B \"$new\" | grep -q '^Sluice-Revert-Of:'; then\n    rm -f '{a}'; touch '{w}'\n    while [ ! -f '{k}' ]; do sleep 0.05; done\n    {verdict}\n  fi\ndone\nexit 0\n",
        a = armed.display(),
        w = waiting.display(),
        k = killed.display(),
    );
    let path = bare.join("hooks").join(name);
    std::fs::write(&path, script).unwrap();
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&path)
        .status()
        .unwrap();
    std::fs::write(&armed, "").unwrap();
}

struct Replica {
    process: Option<ControllerProcess>,
    cache: PathBuf,
}

fn replica(sim: &SimProcess, cache: PathBuf) -> ControllerProcess {
    let cache = cache.display().to_string();
    ControllerProcess::start(
        sim,
        &[
            "--leader-elect",
            "true",
            "--lease-duration",
            "2",
            "--repo-cache",
            &cache,
        ],
    )
}

/// Waits for the hook to hold a push, kills the replica that leads, and lets the hook go on.
async fn kill_the_leader_at(name: &str, signals: &Path, replicas: &mut [Replica]) -> usize {
    let waiting = signals.join(format!("{name}.waiting"));
    until(
        &format!("Sluice's push held at {name}"),
        Duration::from_secs(90),
        || {
            let waiting = waiting.clone();
            async move { waiting.exists() }
        },
    )
    .await;
    let mut leader = None;
    for (i, r) in replicas.iter().enumerate() {
        if let Some(p) = &r.process
            && p.metric("sluice_leader").await == 1.0
        {
            leader = Some(i);
        }
    }
    let leader = leader.expect("a replica leads");
    drop(replicas[leader].process.take());
    std::fs::write(signals.join(format!("{name}.killed")), "").unwrap();
    leader
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_killed_before_and_after_its_push_leaves_exactly_one_revert() {
    let (sim, client) = cluster().await;
    let served = sim.dir.path().join("git");
    let signals = sim.dir.path().join("signals");
    std::fs::create_dir_all(&signals).unwrap();
    let (repo, good) = tests::revert::first_commit(&served);
    let daemon = GitDaemon::start(&served);
    let mut replicas: Vec<Replica> = ["cache-a", "cache-b"]
        .iter()
        .map(|c| {
            let cache = sim.dir.path().join(c);
            Replica {
                process: Some(replica(&sim, cache.clone())),
                cache,
            }
        })
        .collect();
    apply(
        &client,
        &tests::revert::application(&daemon.url("apps"), "true", json!({"prune": true})),
    )
    .await;
    until_app(
        &client,
        "api",
        "the known-good revision",
        Duration::from_secs(60),
        |a| a["metadata"]["annotations"]["sluice.dev/healthy-revision"] == good.as_str(),
    )
    .await;
    hook(&repo.bare, "pre-receive", &signals, true);
    hook(&repo.bare, "post-receive", &signals, false);

    let bad = repo.commit(&[("api/rollout.yaml", &rollout("api:2"))], "api 2");
    // Killed with its revert commit made and the push in flight (then refused).
    let first = kill_the_leader_at("pre-receive", &signals, &mut replicas).await;
    assert_eq!(
        git(&repo.bare, &["rev-parse", "main"]),
        bad,
        "the refused push left main alone"
    );
    // The other replica takes over and pushes; killed before it hears back or writes anything.
    let second = kill_the_leader_at("post-receive", &signals, &mut replicas).await;
    assert_ne!(first, second, "the standby took over");
    // The first one comes back on its own cache (which holds its unpushed revert commit).
    replicas[first].process = Some(replica(&sim, replicas[first].cache.clone()));

    let revert = git(&repo.bare, &["rev-parse", "main"]);
    assert_eq!(
        git(&repo.bare, &["show", "-s", "--format=%s %P", "main"]),
        format!("Revert \"api 2\" {bad}")
    );
    until_app(&client, "api", "Healthy on the revert", Duration::from_secs(90), |a| {
        a["status"]["sync"]["revision"] == revert.as_str()
            && states(a) == ("Synced".into(), "Healthy".into(), "Succeeded".into())
    })
    .await;
    support::gitops::refreshed(&client, "api").await;
    let reverts = git(
        &repo.bare,
        &["log", "--format=%(trailers:key=Sluice-Revert-Of,valueonly)", "main"],
    );
    assert_eq!(
        reverts.lines().filter(|l| !l.is_empty()).collect::<Vec<_>>(),
        [bad.as_str()],
        "exactly one revert"
    );
    assert_eq!(
        git(&repo.bare, &["rev-parse", "main"]),
        revert,
        "nothing pushed after it"
    );
}
