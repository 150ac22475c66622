//! Bad input end to end: broken YAML in Git, a path that does not exist, an unreachable
//! repository, wrong credentials on smart HTTP, a Helm chart without helm. Each is a clear
//! condition on the Application; nothing is applied, nothing pruned, the last good sync stays.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::gitops::{ControllerProcess, apply, cluster, get, states, until_app};
use tests::git::http::Auth;
use tests::git::{GitDaemon, GitHttp, GitRepo};

fn application(name: &str, url: &str, path: &str) -> Value {
    json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": name, "namespace": "argocd"},
        "spec": {
            "source": {"repoURL": url, "path": path, "targetRevision": "main"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "default"},
            "syncPolicy": {"automated": {"prune": true}},
        }
    })
}

fn condition(app: &Value, type_: &str) -> Option<String> {
    app["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
        .and_then(|c| c["message"].as_str().map(str::to_owned))
}

const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kept\ndata:\n  v: \"1\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_a_condition_and_nothing_is_lost() {
    let world = support::scenario::Scenario::start(
        "apps",
        &[
            ("app/kept.yaml", CM),
            ("chart/Chart.yaml", "apiVersion: v2\nname: web\nversion: 0.1.0\n"),
        ],
        &[],
    )
    .await;
    let (client, repo) = (world.client.clone(), &world.repo);
    world
        .application("broken", "app", json!({"automated": {"prune": true}}))
        .await;
    until_app(&client, "broken", "the good commit", Duration::from_secs(60), |a| {
        states(a).0 == "Synced"
    })
    .await;

    repo.commit(
        &[
            ("app/kept.yaml", ""),
            (
                "app/new.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [oops\n",
            ),
        ],
        "broken YAML, and the good file deleted",
    );
    let failed = until_app(&client, "broken", "the ComparisonError", Duration::from_secs(30), |a| {
        condition(a, "ComparisonError").is_some()
    })
    .await;
    let message = condition(&failed, "ComparisonError").unwrap();
    assert!(
        message.starts_with("app/new.yaml:4:") && message.contains("unclosed bracket"),
        "{message}"
    );
    assert_eq!(states(&failed).0, "Unknown");
    support::gitops::refreshed(&client, "broken").await;
    assert!(
        get(&client, "v1", "ConfigMap", "default", "kept").await.is_some(),
        "nothing pruned"
    );

    repo.commit(
        &[("app/new.yaml", ""), ("app/README.md", "no manifests here\n")],
        "fixed: no manifests left",
    );
    until_app(
        &client,
        "broken",
        "the fix to clear the condition",
        Duration::from_secs(30),
        |a| condition(a, "ComparisonError").is_none() && states(a).0 == "OutOfSync",
    )
    .await;
    let refused = until_app(
        &client,
        "broken",
        "allowEmpty to refuse",
        Duration::from_secs(30),
        |a| condition(a, "SyncError").is_some(),
    )
    .await;
    assert!(
        condition(&refused, "SyncError").unwrap().contains("allowEmpty"),
        "an empty render never prunes everything"
    );
    assert!(get(&client, "v1", "ConfigMap", "default", "kept").await.is_some());

    let url = world.url();
    let cases = [
        (
            "missing-path",
            url.clone(),
            "no/such/path",
            "path \"no/such/path\" does not exist in the repository",
        ),
        (
            "unreachable",
            "git://127.0.0.1:1/nothing.git".to_owned(),
            "app",
            "repository git://127.0.0.1:1/nothing.git:",
        ),
        (
            "helm",
            url.clone(),
            "chart",
            "helm: no helm binary on the controller's PATH",
        ),
    ];
    let helm_installed =
        std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("helm").is_file()));
    for (name, source, path, expected) in cases {
        if name == "helm" && helm_installed {
            continue;
        }
        apply(&client, &application(name, &source, path)).await;
        let app = until_app(&client, name, "its ComparisonError", Duration::from_secs(30), |a| {
            condition(a, "ComparisonError").is_some()
        })
        .await;
        let message = condition(&app, "ComparisonError").unwrap();
        assert!(message.starts_with(expected), "{name}: {message}");
        assert!(app["status"]["operationState"].is_null(), "{name}: nothing is synced");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_are_named_without_the_secret_then_fixed_by_the_secret() {
    let (sim, client) = cluster().await;
    let served = sim.dir.path().join("git");
    std::fs::create_dir_all(&served).unwrap();
    let repo = GitRepo::create(&served, "private");
    repo.commit(&[("app/kept.yaml", CM)], "good");
    let server = GitHttp::start(&served, Auth::Basic("deploy".into(), "right-password".into()));
    let url = server.url("private");
    let _controller = ControllerProcess::start(&sim, &[]);
    let secret = |password: &str| {
        json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "private-repo", "namespace": "argocd", "labels": {"argocd.argoproj.io/secret-type": "repository"}},
            "stringData": {"type": "git", "url": url, "username": "deploy", "password": password},
        })
    };
    apply(&client, &secret("wrong-password")).await;
    apply(&client, &application("private", &url, "app")).await;
    let refused = until_app(
        &client,
        "private",
        "the ComparisonError",
        Duration::from_secs(30),
        |a| condition(a, "ComparisonError").is_some(),
    )
    .await;
    let message = condition(&refused, "ComparisonError").unwrap();
    assert!(message.contains(&url), "{message}");
    assert!(
        !serde_json::to_string(&refused).unwrap().contains("wrong-password"),
        "the password never reaches the status"
    );
    assert!(server.refused() > 0);
    apply(&client, &secret("right-password")).await;
    until_app(
        &client,
        "private",
        "the sync with the right password",
        Duration::from_secs(30),
        |a| states(a).0 == "Synced" && condition(a, "ComparisonError").is_none(),
    )
    .await;
    assert!(get(&client, "v1", "ConfigMap", "default", "kept").await.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_helm_chart_syncs_through_helm_template() {
    let (sim, client) = cluster().await;
    let served = sim.dir.path().join("git");
    std::fs::create_dir_all(&served).unwrap();
    let repo = GitRepo::create(&served, "charts");
    repo.commit(
        &[
            ("web/Chart.yaml", "apiVersion: v2\nname: web\nversion: 0.1.0\n"),
            ("web/values.yaml", "color: blue\n"),
            ("web/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-settings\ndata:\n  color: {{ .Values.color }}\n"),
        ],
        "a chart",
    );
    let daemon = GitDaemon::start(&served);
    let stand_in = format!("{}/../tests/helm/helm", env!("CARGO_MANIFEST_DIR"));
    let _controller = ControllerProcess::start(&sim, &["--helm-binary", &stand_in]);
    let mut app = application("web", &daemon.url("charts"), "web");
    app["spec"]["source"]["helm"] = json!({"releaseName": "shop", "parameters": [{"name": "color", "value": "green"}]});
    apply(&client, &app).await;
    let synced = until_app(&client, "web", "the chart to sync", Duration::from_secs(60), |a| {
        states(a).0 == "Synced" && states(a).2 == "Succeeded"
    })
    .await;
    assert_eq!(synced["status"]["sourceType"], "Helm");
    let settings = get(&client, "v1", "ConfigMap", "default", "shop-settings")
        .await
        .unwrap();
    assert_eq!(settings["data"]["color"], "green");
}
