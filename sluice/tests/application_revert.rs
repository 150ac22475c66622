//! Auto-revert end to end: a commit whose canary fails its analysis is reverted in Git by the
//! controller (a new commit on the branch, with its trailers and author), the revert syncs, the
//! Rollout is back on the stable version, and nothing is reverted twice; the same change pushed
//! again is kept out of automated syncs until a person syncs it by hand.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use serde_json::json;
use support::gitops::{ControllerProcess, apply, cluster, get, states, until, until_app};
use tests::git::{Auth, GitDaemon, GitHttp, git};
use tests::revert::rollout;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canary_that_fails_its_analysis_is_reverted_in_git() {
    let (sim, client) = cluster().await;
    let served = sim.dir.path().join("git");
    let (repo, good) = tests::revert::first_commit(&served);
    let daemon = GitDaemon::start(&served);
    let _controller = ControllerProcess::start(&sim, &["--git-author", "Sluice Bot <bot@sluice.test>"]);
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

    let bad = repo.commit(&[("api/rollout.yaml", &rollout("api:2"))], "api 2");
    let pushed = crds::clock::stopwatch();
    let bare = repo.bare.clone();
    until("the revert commit on the remote", Duration::from_secs(90), || {
        let bare = bare.clone();
        async move { git(&bare, &["log", "-1", "--format=%s", "main"]) == "Revert \"api 2\"" }
    })
    .await;
    println!("commit -> revert pushed: {:?}", pushed.elapsed());
    assert_eq!(
        git(&bare, &["show", "-s", "--format=%P", "main"]),
        bad,
        "the revert sits on the bad commit"
    );
    assert_eq!(
        git(&bare, &["show", "-s", "--format=%an <%ae>", "main"]),
        "Sluice Bot <bot@sluice.test>"
    );
    assert_eq!(
        git(
            &bare,
            &[
                "show",
                "-s",
                "--format=%(trailers:key=Sluice-Revert-Of,valueonly)",
                "main"
            ]
        ),
        bad
    );
    assert_eq!(
        git(
            &bare,
            &[
                "show",
                "-s",
                "--format=%(trailers:key=Sluice-Application,valueonly)",
                "main"
            ]
        ),
        "argocd/api"
    );
    let body = git(&bare, &["show", "-s", "--format=%b", "main"]);
    assert!(body.contains("Rollout api"), "the body says why: {body}");
    assert!(
        body.contains("AnalysisRun api-") && body.contains("metric \"smoke\" Failed"),
        "and what the analysis measured: {body}"
    );
    assert_eq!(
        git(&bare, &["show", "main:api/rollout.yaml"]).trim_end(),
        rollout("api:1").trim_end()
    );
    let revert = git(&bare, &["rev-parse", "main"]);
    until_app(&client, "api", "Healthy on the revert", Duration::from_secs(60), |a| {
        a["status"]["sync"]["revision"] == revert.as_str()
            && states(a) == ("Synced".into(), "Healthy".into(), "Succeeded".into())
    })
    .await;
    let live = get(&client, "argoproj.io/v1alpha1", "Rollout", "default", "api")
        .await
        .unwrap();
    assert_eq!(live["spec"]["template"]["spec"]["containers"][0]["image"], "api:1");
    support::gitops::refreshed(&client, "api").await;
    let reverts = git(
        &bare,
        &["log", "--format=%(trailers:key=Sluice-Revert-Of,valueonly)", "main"],
    );
    assert_eq!(
        reverts.lines().filter(|l| !l.is_empty()).count(),
        1,
        "exactly one revert"
    );

    // Image automation pushes the same image again: the reverted change stays out.
    repo.pull();
    let again = repo.commit(
        &[
            ("api/rollout.yaml", &rollout("api:2")),
            ("api/NOTES", "bumped by a bot"),
        ],
        "api 2 again",
    );
    let held = until_app(&client, "api", "the change held out", Duration::from_secs(60), |a| {
        a["status"]["sync"]["revision"] == again.as_str()
            && a["status"]["conditions"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c["type"] == "RevertedChangeBlocked"))
    })
    .await;
    assert_eq!(states(&held).0, "OutOfSync");
    let message = held["status"]["conditions"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains(&bad[..7]), "names the reverted commit: {message}");
    support::gitops::refreshed(&client, "api").await;
    let live = get(&client, "argoproj.io/v1alpha1", "Rollout", "default", "api")
        .await
        .unwrap();
    assert_eq!(live["spec"]["template"]["spec"]["containers"][0]["image"], "api:1");

    // A person syncs by hand (what `kubectl sluice app sync api --allow-reverted` writes).
    let apps = support::gitops::dynamic(&client, &held).await;
    let manual = json!({"operation": {"sync": {}, "initiatedBy": {"username": "ana"}}});
    apps.patch(
        "api",
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(&manual),
    )
    .await
    .unwrap();
    until("the reverted image deployed by hand", Duration::from_secs(60), || {
        let client = client.clone();
        async move {
            get(&client, "argoproj.io/v1alpha1", "Rollout", "default", "api")
                .await
                .is_some_and(|r| r["spec"]["template"]["spec"]["containers"][0]["image"] == "api:2")
        }
    })
    .await;
    let after = support::gitops::app(&client, "api").await;
    assert_eq!(
        after["metadata"]["annotations"]["sluice.dev/reverted-templates"], "[]",
        "no longer kept out"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_says_what_it_would_revert_and_pushes_nothing() {
    let (sim, client) = cluster().await;
    let served = sim.dir.path().join("git");
    let (repo, good) = tests::revert::first_commit(&served);
    let daemon = GitDaemon::start(&served);
    let _controller = ControllerProcess::start(&sim, &[]);
    apply(
        &client,
        &tests::revert::application(&daemon.url("apps"), "dry-run", json!({})),
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
    let bad = repo.commit(&[("api/rollout.yaml", &rollout("api:2"))], "api 2");
    let reported = until_app(&client, "api", "the dry-run report", Duration::from_secs(90), |a| {
        a["status"]["conditions"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["type"] == "AutoRevertDryRun"))
    })
    .await;
    let condition = reported["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "AutoRevertDryRun")
        .unwrap()
        .clone();
    let message = condition["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&format!("would revert {bad}")) && message.contains("Revert \"api 2\""),
        "{message}"
    );
    support::gitops::refreshed(&client, "api").await;
    assert_eq!(git(&repo.bare, &["rev-parse", "main"]), bad, "a dry run pushes nothing");
}

/// A host with read-only deploy credentials: the `repository` Secret can fetch but not push; the
/// revert goes out with the `repository-write` Secret's credentials.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_revert_is_pushed_with_the_write_credentials() {
    let (sim, client) = cluster().await;
    let served = sim.dir.path().join("git");
    let (repo, good) = tests::revert::first_commit(&served);
    let http = GitHttp::start_with_writer(
        &served,
        Auth::Basic("reader".into(), "read-only".into()),
        Auth::Basic("writer".into(), "may-push".into()),
    );
    let url = http.url("apps");
    for (name, kind, user, password) in [
        ("read", "repository", "reader", "read-only"),
        ("write", "repository-write", "writer", "may-push"),
    ] {
        apply(
            &client,
            &json!({"apiVersion": "v1", "kind": "Secret",
                    "metadata": {"name": name, "namespace": "argocd", "labels": {"argocd.argoproj.io/secret-type": kind}},
                    "stringData": {"url": url, "username": user, "password": password}}),
        )
        .await;
    }
    let _controller = ControllerProcess::start(&sim, &[]);
    apply(&client, &tests::revert::application(&url, "true", json!({}))).await;
    until_app(
        &client,
        "api",
        "the known-good revision",
        Duration::from_secs(60),
        |a| a["metadata"]["annotations"]["sluice.dev/healthy-revision"] == good.as_str(),
    )
    .await;
    repo.commit(&[("api/rollout.yaml", &rollout("api:2"))], "api 2");
    let bare = repo.bare.clone();
    until("the revert pushed as the writer", Duration::from_secs(90), || {
        let bare = bare.clone();
        async move { git(&bare, &["log", "-1", "--format=%s", "main"]) == "Revert \"api 2\"" }
    })
    .await;
    let app = support::gitops::app(&client, "api").await;
    let said = app["status"]["conditions"].to_string();
    assert!(!said.contains("may-push") && !said.contains("read-only"), "{said}");
}
