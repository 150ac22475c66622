//! Many clusters: a hub simulator running the controller and a second simulator (bearer tokens
//! over TLS) declared by a cluster Secret, a real `git daemon`. An Application addressed to the
//! remote cluster by server or by name deploys there and not on the hub; when the remote cluster
//! stops answering, only its Application goes Unknown while the hub's keeps syncing; the
//! token never reaches the controller's log.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::SimProcess;
use support::gitops::{ControllerProcess, admin, apply, cluster, cluster_secret, get, states, until_app};
use tests::git::{GitDaemon, GitRepo};

fn application(name: &str, destination: Value) -> Value {
    json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
    "metadata": {"name": name, "namespace": "argocd"},
    "spec": {
        "project": "default",
        "source": {"repoURL": "https://github.com/myorg/k8s-manifests.git", "targetRevision": "main", "path": "monitoring"},
        "destination": destination,
        "syncPolicy": {"automated": {"prune": true, "selfHeal": true}, "syncOptions": ["CreateNamespace=true"]}
    }})
}

const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: monitoring}\ndata: {version: \"1\"}\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applications_deploy_to_the_cluster_their_secret_declares_and_an_unreachable_one_blocks_no_other() {
    let (hub, client) = cluster().await;
    let remote = SimProcess::start_with(&["--authz"]);
    let remote_client = admin(&remote).await;
    let served = hub.dir.path().join("git");
    std::fs::create_dir_all(&served).unwrap();
    let repo = GitRepo::create(&served, "k8s-manifests");
    repo.commit(&[("monitoring/cm.yaml", CM)], "monitoring");
    let daemon = GitDaemon::start(&served);
    let rewrite = format!("https://github.com/myorg/={}", daemon.url("").trim_end_matches(".git"));
    let log = hub.dir.path().join("controller.log");
    let _controller =
        ControllerProcess::start_as(&hub, &hub.kubeconfig(), Some(&log), &["--repo-url-rewrite", &rewrite]);
    let (secret, token) = cluster_secret(&remote, "prod-eu", &[("env", "production")]);
    let server = secret["stringData"]["server"].as_str().unwrap().to_owned();
    apply(&client, &secret).await;
    apply(
        &client,
        &application("by-server", json!({"server": server, "namespace": "monitoring"})),
    )
    .await;
    apply(
        &client,
        &application("by-name", json!({"name": "prod-eu", "namespace": "monitoring-2"})),
    )
    .await;
    apply(
        &client,
        &application(
            "local",
            json!({"server": "https://kubernetes.default.svc", "namespace": "monitoring"}),
        ),
    )
    .await;

    for name in ["by-server", "by-name", "local"] {
        until_app(&client, name, "Synced and Healthy", Duration::from_secs(60), |a| {
            states(a) == ("Synced".into(), "Healthy".into(), "Succeeded".into())
        })
        .await;
    }
    assert!(
        get(&remote_client, "v1", "ConfigMap", "monitoring", "monitoring")
            .await
            .is_some()
    );
    assert!(
        get(&remote_client, "v1", "ConfigMap", "monitoring-2", "monitoring")
            .await
            .is_some()
    );
    assert!(
        get(&client, "v1", "ConfigMap", "monitoring-2", "monitoring")
            .await
            .is_none(),
        "nothing of the remote Applications lands on the hub"
    );
    assert!(
        get(&client, "v1", "ConfigMap", "monitoring", "monitoring")
            .await
            .is_some()
    );
    // An unknown cluster is named.
    apply(
        &client,
        &application("nowhere", json!({"name": "prod-us", "namespace": "x"})),
    )
    .await;
    until_app(
        &client,
        "nowhere",
        "the unknown cluster",
        Duration::from_secs(30),
        |a| {
            a["status"]["conditions"].as_array().is_some_and(|c| {
                c.iter().any(|c| {
                    c["type"] == "InvalidSpecError"
                        && c["message"]
                            .as_str()
                            .unwrap_or_default()
                            .contains("cluster \"prod-us\" is not known")
                })
            })
        },
    )
    .await;

    // The remote cluster stops answering: its Applications go Unknown, the hub's keeps syncing.
    drop(remote);
    until_app(&client, "by-server", "Unknown", Duration::from_secs(60), |a| {
        let (sync, health, _) = states(a);
        sync == "Unknown" && health == "Unknown"
    })
    .await;
    repo.commit(&[("monitoring/cm.yaml", &CM.replace("\"1\"", "\"2\""))], "version 2");
    support::gitops::until(
        "the local Application to take version 2",
        Duration::from_secs(60),
        || async {
            get(&client, "v1", "ConfigMap", "monitoring", "monitoring")
                .await
                .is_some_and(|cm| cm["data"]["version"] == "2")
        },
    )
    .await;
    let unknown = support::gitops::app(&client, "by-name").await;
    let condition = unknown["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "ComparisonError")
        .cloned()
        .unwrap_or(Value::Null);
    assert!(
        condition["message"]
            .as_str()
            .unwrap_or_default()
            .contains("is unreachable"),
        "{condition}"
    );
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(!logged.contains(&token), "the cluster's token never reaches the log");
    drop(daemon);
}
