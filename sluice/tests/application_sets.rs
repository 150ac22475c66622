//! The founding ApplicationSets (`../shared/conformance/seeds/`) applied unchanged against the
//! simulator and a real `git daemon`: the git-directories set follows the directories of the
//! repository (a new directory adds an Application, a removed one deletes it), the clusters set
//! follows the `env: production` label of cluster Secrets (no manifest change), the list set
//! honours `applicationsSync: create-only`, and deleting a set garbage-collects its
//! Applications. Every generated Application is owned (ownerReference and label).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams};
use serde_json::{Value, json};
use support::gitops::{ControllerProcess, app, apply, cluster, get, until};
use tests::git::{GitDaemon, GitRepo};

fn seed(name: &str) -> Value {
    let path = format!("{}/../../shared/conformance/seeds/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    crds::yaml::from_str(&text).unwrap()
}

const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: config}\n";

async fn appset(client: &kube::Client, name: &str) -> Value {
    get(client, "argoproj.io/v1alpha1", "ApplicationSet", "argocd", name)
        .await
        .unwrap_or(Value::Null)
}

/// The names of the Applications ApplicationSet `set` owns (by its label), sorted.
async fn generated(client: &kube::Client, set: &str) -> Vec<String> {
    let api: Api<kube::api::DynamicObject> = support::gitops::dynamic(
        client,
        &json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": "x", "namespace": "argocd"}}),
    )
    .await;
    let selector = format!("argocd.argoproj.io/application-set-name={set}");
    let mut names: Vec<String> = api
        .list(&kube::api::ListParams::default().labels(&selector))
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|a| a.metadata.deletion_timestamp.is_none())
        .filter_map(|a| a.metadata.name)
        .collect();
    names.sort();
    names
}

async fn until_generated(client: &kube::Client, set: &str, want: &[&str]) {
    let what = format!("ApplicationSet {set} to generate {want:?}");
    tests::wait::until_state(
        &what,
        Duration::from_secs(40),
        Duration::from_millis(100),
        || async {
            (
                generated(client, set).await,
                appset(client, set).await["status"].clone(),
            )
        },
        |(have, _)| have == want,
    )
    .await;
}

fn cluster_secret(name: &str, server: &str, env: Option<&str>) -> Value {
    let mut labels = json!({"argocd.argoproj.io/secret-type": "cluster"});
    if let Some(env) = env {
        labels["env"] = Value::from(env);
    }
    json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": format!("cluster-{name}"), "namespace": "argocd", "labels": labels},
        "stringData": {"name": name, "server": server, "config": "{\"bearerToken\": \"not-a-parameter\"}"}})
}

fn condition(set: &Value, type_: &str) -> Value {
    set["status"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == type_).cloned())
        .unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_founding_application_sets_generate_what_they_describe() {
    let (sim, client) = cluster().await;
    let served = sim.dir.path().join("git");
    std::fs::create_dir_all(&served).unwrap();
    let repo = GitRepo::create(&served, "k8s-manifests");
    repo.commit(
        &[
            ("apps/billing/cm.yaml", CM),
            ("apps/web/cm.yaml", CM),
            ("monitoring/cm.yaml", CM),
        ],
        "two apps and monitoring",
    );
    let daemon = GitDaemon::start(&served);
    let rewrite = format!("https://github.com/myorg/={}", daemon.url("").trim_end_matches(".git"));
    let controller = ControllerProcess::start(&sim, &["--repo-url-rewrite", &rewrite]);
    apply(&client, &seed("appproject-platform.yaml")).await;
    apply(&client, &seed("applicationset-git-directories.yaml")).await;
    apply(&client, &seed("applicationset-clusters.yaml")).await;
    apply(&client, &seed("applicationset-list.yaml")).await;

    // Git directories: one Application per directory under apps/, owned by the set.
    until_generated(&client, "cluster-apps", &["billing", "web"]).await;
    let billing = app(&client, "billing").await;
    assert_eq!(billing["spec"]["source"]["path"], "apps/billing");
    assert_eq!(billing["spec"]["destination"]["namespace"], "billing");
    let owner = &billing["metadata"]["ownerReferences"][0];
    assert_eq!(
        (
            owner["kind"].as_str(),
            owner["name"].as_str(),
            owner["controller"].as_bool()
        ),
        (Some("ApplicationSet"), Some("cluster-apps"), Some(true))
    );
    assert_eq!(
        billing["metadata"]["finalizers"],
        json!(["resources-finalizer.argocd.argoproj.io"])
    );
    until("the set's status", Duration::from_secs(20), || async {
        let set = appset(&client, "cluster-apps").await;
        condition(&set, "ResourcesUpToDate")["status"] == "True"
            && set["status"]["resources"].as_array().is_some_and(|r| r.len() == 2)
    })
    .await;
    // The list: its two services, in project platform.
    until_generated(&client, "microservices", &["api", "worker"]).await;
    assert_eq!(app(&client, "worker").await["spec"]["project"], "platform");
    // No production cluster yet: the clusters set generates nothing (the local cluster is not
    // labelled).
    assert!(generated(&client, "monitoring").await.is_empty());

    // A new directory adds an Application; one that collides with the list's `api` is refused
    // by name while the others stay.
    repo.commit(
        &[("apps/search/cm.yaml", CM), ("apps/api/cm.yaml", CM)],
        "search, and an api directory",
    );
    until_generated(&client, "cluster-apps", &["billing", "search", "web"]).await;
    until("the collision to be reported", Duration::from_secs(20), || async {
        condition(&appset(&client, "cluster-apps").await, "ErrorOccurred")["message"]
            .as_str()
            .is_some_and(|m| {
                m.contains("Application api already exists and is not owned by ApplicationSet cluster-apps")
            })
    })
    .await;
    assert_eq!(
        app(&client, "api").await["metadata"]["labels"]["argocd.argoproj.io/application-set-name"],
        "microservices",
        "the list's Application is untouched"
    );
    // Removing the directory (and the collision) deletes its Application.
    repo.commit(&[("apps/web/cm.yaml", ""), ("apps/api/cm.yaml", "")], "retire web");
    until_generated(&client, "cluster-apps", &["billing", "search"]).await;

    // Labelling a cluster Secret `env: production` is all it takes; removing the label deletes
    // the Application (the default policy, sync).
    apply(
        &client,
        &cluster_secret("prod-eu", "https://prod-eu.example:6443", Some("production")),
    )
    .await;
    apply(
        &client,
        &cluster_secret("staging", "https://staging.example:6443", Some("staging")),
    )
    .await;
    until_generated(&client, "monitoring", &["monitoring-prod-eu"]).await;
    let monitoring = app(&client, "monitoring-prod-eu").await;
    assert_eq!(
        monitoring["spec"]["destination"]["server"],
        "https://prod-eu.example:6443"
    );
    assert!(
        !serde_json::to_string(&monitoring).unwrap().contains("not-a-parameter"),
        "credentials are never parameters"
    );
    apply(
        &client,
        &cluster_secret("prod-eu", "https://prod-eu.example:6443", None),
    )
    .await;
    until_generated(&client, "monitoring", &[]).await;

    // create-only: a removed element keeps its Application, an added one is created (which also
    // shows the set was reconciled with its new generators).
    let sets = support::gitops::dynamic(&client, &seed("applicationset-list.yaml")).await;
    let patch = json!({"spec": {"syncPolicy": {"applicationsSync": "create-only"},
    "generators": [{"list": {"elements": [
        {"service": "api", "namespace": "production"}, {"service": "batch", "namespace": "production"}
    ]}}]}});
    sets.patch("microservices", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    until_generated(&client, "microservices", &["api", "batch", "worker"]).await;

    // An unchanged set writes nothing: its Applications keep their resourceVersion through a
    // reconcile woken by a change that does not touch what it generates.
    let before = app(&client, "billing").await["metadata"]["resourceVersion"].clone();
    let touch = json!({"metadata": {"annotations": {"test.sluice.dev/touched": "1"}}});
    controller
        .reconciled_after("applicationset", async {
            sets.patch("cluster-apps", &PatchParams::default(), &Patch::Merge(&touch))
                .await
                .unwrap();
        })
        .await;
    assert_eq!(app(&client, "billing").await["metadata"]["resourceVersion"], before);

    // Deleting the set deletes its Applications (garbage collection by ownerReference).
    sets.delete("cluster-apps", &DeleteParams::default()).await.unwrap();
    until_generated(&client, "cluster-apps", &[]).await;
    assert_eq!(generated(&client, "microservices").await, ["api", "batch", "worker"]);
    drop(daemon);
}
