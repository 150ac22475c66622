//! Two controller replicas sharing the Applications (`--shards 2`), over two clusters: the hub
//! (shard 0, as the local cluster always is) and a remote simulator whose server hashes to the
//! second shard. Each Application is managed by exactly one replica: with the second replica
//! stopped, the first keeps its own Application in sync and never touches the other one;
//! restarted, the second catches up. Leader election still picks one replica for Rollouts.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use gitops::shard::{Shard, ShardBy};
use serde_json::{Value, json};
use support::SimProcess;
use support::gitops::{ControllerProcess, admin, apply, cluster, cluster_secret, get, states, until, until_app};
use tests::git::{GitDaemon, GitRepo};

const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {version: \"1\"}\n";

fn application(name: &str, destination: Value) -> Value {
    json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
    "metadata": {"name": name, "namespace": "argocd"},
    "spec": {
        "project": "default",
        "source": {"repoURL": "https://github.com/myorg/config.git", "targetRevision": "main", "path": "settings"},
        "destination": destination,
        "syncPolicy": {"automated": {"prune": true}, "syncOptions": ["CreateNamespace=true"]}
    }})
}

/// A free loopback address whose `https://` server URL falls in shard `want` of 2.
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
        let server = format!("https://127.0.0.1:{port}");
        if shard.owns(&server, "argocd", "any") {
            return format!("127.0.0.1:{port}");
        }
    }
}

fn replica(hub: &SimProcess, rewrite: &str, shard: &str) -> ControllerProcess {
    ControllerProcess::start(
        hub,
        &[
            "--repo-url-rewrite",
            rewrite,
            "--shards",
            "2",
            "--shard",
            shard,
            "--leader-elect",
            "true",
            "--repo-cache",
            &hub.dir.path().join(format!("cache-{shard}")).display().to_string(),
        ],
    )
}

async fn version(client: &kube::Client, namespace: &str) -> Option<String> {
    get(client, "v1", "ConfigMap", namespace, "settings")
        .await
        .and_then(|cm| cm["data"]["version"].as_str().map(str::to_owned))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_application_is_managed_by_exactly_one_replica() {
    let (hub, client) = cluster().await;
    let remote = SimProcess::start_at(&address_in_shard(1), &["--authz"]);
    let remote_client = admin(&remote).await;
    apply(&client, &cluster_secret(&remote, "remote", &[]).0).await;
    let served = hub.dir.path().join("git");
    std::fs::create_dir_all(&served).unwrap();
    let repo = GitRepo::create(&served, "config");
    repo.commit(&[("settings/cm.yaml", CM)], "settings v1");
    let daemon = GitDaemon::start(&served);
    let rewrite = format!("https://github.com/myorg/={}", daemon.url("").trim_end_matches(".git"));
    let first = replica(&hub, &rewrite, "0");
    let second = replica(&hub, &rewrite, "1");
    apply(
        &client,
        &application(
            "hub-settings",
            json!({"server": "https://kubernetes.default.svc", "namespace": "settings"}),
        ),
    )
    .await;
    apply(
        &client,
        &application("remote-settings", json!({"name": "remote", "namespace": "settings"})),
    )
    .await;
    for name in ["hub-settings", "remote-settings"] {
        until_app(&client, name, "Synced and Healthy", Duration::from_secs(60), |a| {
            states(a) == ("Synced".into(), "Healthy".into(), "Succeeded".into())
        })
        .await;
    }
    assert_eq!(version(&remote_client, "settings").await.as_deref(), Some("1"));
    assert!(
        second.metric("sluice_app_api_requests").await > 0.0,
        "the second replica manages the remote cluster"
    );

    // The second replica stops: the first syncs its own Application and leaves the other alone.
    drop(second);
    repo.commit(&[("settings/cm.yaml", &CM.replace("\"1\"", "\"2\""))], "settings v2");
    until("the hub to take v2", Duration::from_secs(60), || async {
        version(&client, "settings").await.as_deref() == Some("2")
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        version(&remote_client, "settings").await.as_deref(),
        Some("1"),
        "the first replica never writes to the second's cluster"
    );
    let remote_app = support::gitops::app(&client, "remote-settings").await;
    assert_eq!(states(&remote_app).0, "Synced", "nor to its Application's status");

    // Back, it catches up.
    let _second = replica(&hub, &rewrite, "1");
    until("the remote cluster to take v2", Duration::from_secs(60), || async {
        version(&remote_client, "settings").await.as_deref() == Some("2")
    })
    .await;
    drop(first);
    drop(daemon);
}
