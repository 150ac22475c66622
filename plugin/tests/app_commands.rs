//! `kubectl sluice app ...` as a process against a simulated cluster with the controller running
//! (Application reconciler included) and a real `git daemon`: list, diff (exit codes as
//! `argocd app diff`), sync, get, history, wait, and the one-line errors.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Output};
use std::time::Duration;

use controller::runtime::AppSettings;
use kube::api::{Patch, PatchParams};
use tests::cluster::Cluster;
use tests::git::{GitDaemon, GitRepo, git};

const SETTINGS: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  color: blue\n";

struct Env {
    cluster: Cluster,
    dir: tempfile::TempDir,
}

impl Env {
    async fn sluice(&self, args: &[&str]) -> (i32, String, String) {
        let kubeconfig = self.dir.path().join("kubeconfig");
        let args: Vec<String> = args.iter().map(ToString::to_string).collect();
        let out: Output = tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_kubectl-sluice"))
                .arg("--kubeconfig")
                .arg(kubeconfig)
                .args(args)
                .env("NO_COLOR", "1")
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_commands_list_diff_sync_get_history_and_wait() {
    let dir = tempfile::tempdir().unwrap();
    let settings = AppSettings {
        repo_cache: Some(dir.path().join("cache")),
        poll_interval: Duration::from_secs(1),
        ..AppSettings::default()
    };
    let cluster = Cluster::start_with(None, Some(settings)).await;
    cluster.sim.write_kubeconfig(&dir.path().join("kubeconfig")).unwrap();
    cluster
        .apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: argocd}\n", "")
        .await;
    let served = dir.path().join("git");
    std::fs::create_dir_all(&served).unwrap();
    let repo = GitRepo::create(&served, "apps");
    let sha = repo.commit(&[("guestbook/settings.yaml", SETTINGS)], "settings");
    let daemon = GitDaemon::start(&served);
    let app = format!(
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {{name: guestbook}}\nspec:\n  source: {{repoURL: '{}', path: guestbook, targetRevision: main}}\n  destination: {{server: 'https://kubernetes.default.svc', namespace: default}}\n",
        daemon.url("apps")
    );
    cluster.apply(&app, "argocd").await;
    let env = Env { cluster, dir };

    let mut listed = String::new();
    for _ in 0..100 {
        listed = env.sluice(&["app", "list"]).await.1;
        if listed.contains("OutOfSync") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(listed.starts_with("NAME"), "{listed}");
    assert!(
        listed.contains(&format!("guestbook   OutOfSync   Missing   {}", &sha[..7])),
        "{listed}"
    );

    let (code, diff, _) = env.sluice(&["app", "diff", "guestbook"]).await;
    assert_eq!(code, 1, "a difference exits 1: {diff}");
    assert!(diff.contains("=== /ConfigMap/default/settings"), "{diff}");
    assert!(diff.contains("+  color: blue"), "{diff}");

    let (code, out, err) = env.sluice(&["app", "sync", "guestbook", "-t", "60s"]).await;
    assert_eq!(
        (code, out.trim()),
        (0, format!("application 'guestbook' synced to {}", &sha[..7]).as_str()),
        "{err}"
    );
    let (code, diff, _) = env.sluice(&["app", "diff", "guestbook"]).await;
    assert_eq!((code, diff.as_str()), (0, ""), "nothing left to sync");

    let (code, out, _) = env
        .sluice(&["app", "wait", "guestbook", "--health", "--sync", "-t", "30s"])
        .await;
    assert_eq!(code, 0, "{out}");
    let (_, get, _) = env.sluice(&["app", "get", "guestbook"]).await;
    assert!(get.contains("Sync:        Synced to"), "{get}");
    assert!(get.contains("Last sync:   Succeeded"), "{get}");
    assert!(get.contains("ConfigMap   default     settings   Synced"), "{get}");
    let (_, history, _) = env.sluice(&["app", "history", "guestbook"]).await;
    assert_eq!(history.lines().count(), 2, "{history}");
    assert!(history.contains(&sha), "{history}");

    let configmaps: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
        kube::Api::namespaced(env.cluster.client.clone(), "default");
    let edit = serde_json::json!({"data": {"color": "red"}});
    configmaps
        .patch("settings", &PatchParams::default(), &Patch::Merge(&edit))
        .await
        .unwrap();
    let (code, diff, _) = env.sluice(&["app", "diff", "guestbook"]).await;
    assert_eq!(code, 1);
    assert!(
        diff.contains("-  color: red") && diff.contains("+  color: blue"),
        "{diff}"
    );

    let (code, _, err) = env.sluice(&["app", "get", "nope"]).await;
    assert_eq!(
        (code, err.trim()),
        (1, "error: application 'nope' not found in namespace 'argocd'")
    );
    let (code, _, err) = env.sluice(&["app", "wait", "guestbook", "--sync", "-t", "1s"]).await;
    assert_eq!(code, 1);
    assert!(
        err.contains("application 'guestbook' timed out: sync OutOfSync"),
        "{err}"
    );
    drop(daemon);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_revert_reverts_in_git_and_prints_the_commit() {
    let dir = tempfile::tempdir().unwrap();
    let settings = AppSettings {
        repo_cache: Some(dir.path().join("cache")),
        poll_interval: Duration::from_secs(1),
        ..AppSettings::default()
    };
    let cluster = Cluster::start_with(None, Some(settings)).await;
    cluster.sim.write_kubeconfig(&dir.path().join("kubeconfig")).unwrap();
    cluster
        .apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: argocd}\n", "")
        .await;
    let served = dir.path().join("git");
    std::fs::create_dir_all(&served).unwrap();
    let repo = GitRepo::create(&served, "apps");
    let good = repo.commit(&[("guestbook/settings.yaml", SETTINGS)], "blue");
    let daemon = GitDaemon::start(&served);
    let app = format!(
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {{name: guestbook}}\nspec:\n  source: {{repoURL: '{}', path: guestbook, targetRevision: main}}\n  destination: {{server: 'https://kubernetes.default.svc', namespace: default}}\n  syncPolicy: {{automated: {{}}}}\n",
        daemon.url("apps")
    );
    cluster.apply(&app, "argocd").await;
    let env = Env { cluster, dir };
    let (code, _, err) = env.sluice(&["app", "wait", "guestbook", "--sync", "-t", "60s"]).await;
    assert_eq!(code, 0, "{err}");
    let bad = repo.commit(&[("guestbook/settings.yaml", &SETTINGS.replace("blue", "red"))], "red");
    let mut synced_bad = false;
    for _ in 0..200 {
        let (_, get, _) = env.sluice(&["app", "get", "guestbook"]).await;
        if get.contains(&format!("Sync:        Synced to {}", &bad[..7])) {
            synced_bad = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(synced_bad, "the red commit syncs");

    let (code, out, err) = env
        .sluice(&["app", "revert", "guestbook", "--to-revision", &good[..7], "--dry-run"])
        .await;
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with(&format!("would revert {bad}:\nRevert \"red\"")),
        "{out}"
    );
    assert_eq!(git(&repo.bare, &["rev-parse", "main"]), bad, "a dry run pushes nothing");

    let (code, out, err) = env
        .sluice(&["app", "revert", "guestbook", "--to-revision", &good[..7]])
        .await;
    assert_eq!(code, 0, "{err}");
    let tip = git(&repo.bare, &["rev-parse", "main"]);
    assert_eq!(
        out.trim(),
        format!("pushed {} to main: reverted {}", &tip[..7], &bad[..7])
    );
    assert_eq!(
        git(&repo.bare, &["show", "main:guestbook/settings.yaml"]),
        SETTINGS.trim_end()
    );
    let configmaps: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
        kube::Api::namespaced(env.cluster.client.clone(), "default");
    for _ in 0..200 {
        if configmaps
            .get("settings")
            .await
            .ok()
            .and_then(|c| c.data)
            .and_then(|d| d.get("color").cloned())
            .as_deref()
            == Some("blue")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let color = configmaps
        .get("settings")
        .await
        .unwrap()
        .data
        .unwrap_or_default()
        .get("color")
        .cloned();
    assert_eq!(color.as_deref(), Some("blue"), "the revert syncs back");
    let (code, _, err) = env
        .sluice(&["app", "revert", "guestbook", "--to-revision", &good[..7]])
        .await;
    assert_eq!(code, 1, "never twice");
    assert!(err.contains("is a Sluice revert: a revert is never reverted"), "{err}");
    drop(daemon);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_list_draws_the_sets_and_appset_get_shows_their_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let settings = AppSettings {
        repo_cache: Some(dir.path().join("cache")),
        poll_interval: Duration::from_secs(1),
        ..AppSettings::default()
    };
    let cluster = Cluster::start_with(None, Some(settings)).await;
    cluster.sim.write_kubeconfig(&dir.path().join("kubeconfig")).unwrap();
    cluster
        .apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: argocd}\n", "")
        .await;
    let served = dir.path().join("git");
    std::fs::create_dir_all(&served).unwrap();
    let repo = GitRepo::create(&served, "apps");
    repo.commit(
        &[
            ("teams/blue/settings.yaml", SETTINGS),
            ("teams/green/settings.yaml", SETTINGS),
        ],
        "two teams",
    );
    let daemon = GitDaemon::start(&served);
    let set = format!(
        "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata: {{name: teams}}\nspec:\n  generators:\n  - git:\n      repoURL: '{url}'\n      revision: main\n      directories: [{{path: 'teams/*'}}]\n  template:\n    metadata: {{name: 'team-{{{{path.basename}}}}'}}\n    spec:\n      source: {{repoURL: '{url}', path: '{{{{path}}}}', targetRevision: main}}\n      destination: {{server: 'https://kubernetes.default.svc', namespace: '{{{{path.basename}}}}'}}\n",
        url = daemon.url("apps")
    );
    cluster.apply(&set, "argocd").await;
    let env = Env { cluster, dir };

    let mut listed = String::new();
    for _ in 0..200 {
        listed = env.sluice(&["app", "list"]).await.1;
        if listed.contains("└── team-green") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let rows: Vec<&str> = listed.lines().skip(1).collect();
    assert!(rows[0].starts_with("ApplicationSet/teams"), "{listed}");
    assert!(rows[1].starts_with("├── team-blue"), "{listed}");
    assert!(rows[2].starts_with("└── team-green"), "{listed}");

    let (code, view, err) = env.sluice(&["appset", "get", "teams"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(view.contains("Generators:  git"), "{view}");
    assert!(
        view.contains("spec.generators[0][0] -> Application team-blue"),
        "{view}"
    );
    assert!(view.contains("      path = teams/green"), "{view}");
    assert!(view.contains("ResourcesUpToDate    True"), "{view}");
    let (code, _, err) = env.sluice(&["appset", "get", "nope"]).await;
    assert_eq!(
        (code, err.trim()),
        (1, "error: applicationset 'nope' not found in namespace 'argocd'")
    );
    drop(daemon);
}
