//! The memory scenarios: the controller process's resident memory once settled, next to a bare
//! kube-rs reflector process (this binary's `reflector` command) over the same objects:
//! - **Rollouts**: R Rollouts, each with a previous revision's ReplicaSet created beside it and
//!   its current one made by the controller (2R ReplicaSets), all Healthy; floor: reflectors
//!   over Rollouts and ReplicaSets.
//! - **Applications**: A Applications, each syncing M ConfigMaps from one repository; floor: a
//!   reflector over ConfigMaps.

use std::time::Duration;

use futures::StreamExt as _;
use k8s_openapi::api::apps::v1::ReplicaSet;
use kube::Api;
use kube::api::{ListParams, PostParams};
use serde_json::json;
use tests::git::{GitDaemon, GitRepo};

use super::Sizes;
use crate::harness::{Cluster, Controller, Scratch, until};
use crate::process::Reflector;
use crate::stats::Summary;
use crate::table::Row;

/// Creates are sent this many at a time.
const IN_FLIGHT: usize = 32;

/// Lets the controller settle after the last change before its memory is read.
const SETTLE: Duration = Duration::from_secs(3);

fn rollout(i: usize) -> crds::Rollout {
    serde_json::from_value(json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
        "metadata": {"name": format!("mem-{i:05}"), "namespace": "default"},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"app": format!("mem-{i:05}")}},
            "template": {
                "metadata": {"labels": {"app": format!("mem-{i:05}")}},
                "spec": {"containers": [{"name": "app", "image": "app:2"}]}
            },
            "strategy": {"canary": {"steps": [{"setWeight": 50}, {"pause": {}}]}}
        }
    }))
    .expect("a valid Rollout")
}

/// The previous revision's ReplicaSet of `owner`: empty, image `app:1`.
fn previous(owner: &crds::Rollout) -> ReplicaSet {
    let name = owner.metadata.name.clone().unwrap_or_default();
    serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {
            "name": format!("{name}-previous"), "namespace": "default",
            "labels": {"app": name, "rollouts-pod-template-hash": "previous"},
            "annotations": {"rollout.argoproj.io/revision": "1"},
            "ownerReferences": [{
                "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": name,
                "uid": owner.metadata.uid, "controller": true, "blockOwnerDeletion": true
            }]
        },
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"app": name, "rollouts-pod-template-hash": "previous"}},
            "template": {
                "metadata": {"labels": {"app": name, "rollouts-pod-template-hash": "previous"}},
                "spec": {"containers": [{"name": "app", "image": "app:1"}]}
            }
        }
    }))
    .expect("a valid ReplicaSet")
}

/// Waits, checking `count` every 2 s, until it reaches `n` or ten minutes pass.
async fn until_count<F: std::future::Future<Output = usize>>(n: usize, mut count: impl FnMut() -> F) {
    let _ = until(Duration::from_secs(600), Duration::from_secs(2), || {
        let counted = count();
        async move { counted.await >= n }
    })
    .await;
}

/// Controller and floor RSS, MiB, with `n` Rollouts and 2n ReplicaSets.
async fn rollouts_once(n: usize) -> (f64, f64) {
    let cluster = Cluster::start().await;
    let rollouts: Api<crds::Rollout> = Api::namespaced(cluster.client.clone(), "default");
    let sets: Api<ReplicaSet> = Api::namespaced(cluster.client.clone(), "default");
    futures::stream::iter(0..n)
        .map(|i| {
            let (rollouts, sets) = (rollouts.clone(), sets.clone());
            async move {
                let created = rollouts
                    .create(&PostParams::default(), &rollout(i))
                    .await
                    .expect("created");
                sets.create(&PostParams::default(), &previous(&created))
                    .await
                    .expect("created");
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect::<Vec<()>>()
        .await;
    let controller = Controller::start(&cluster, "60s");
    controller.ready().await;
    until_count(n, || async {
        rollouts.list(&ListParams::default()).await.map_or(0, |l| {
            l.items
                .iter()
                .filter(|r| r.status.as_ref().and_then(|s| s.phase) == Some(crds::rollout::RolloutPhase::Healthy))
                .count()
        })
    })
    .await;
    until_count(2 * n, || async {
        sets.list_metadata(&ListParams::default())
            .await
            .map_or(0, |l| l.items.len())
    })
    .await;
    tokio::time::sleep(SETTLE).await;
    let rss = controller.rss_mib();
    drop(controller);
    let floor = Reflector::listed(&cluster, &["argoproj.io/v1alpha1/Rollout", "apps/v1/ReplicaSet"]).await;
    (rss, floor.rss_mib())
}

/// Controller and floor RSS, MiB, with `apps` Applications of `each` ConfigMaps.
async fn applications_once(apps: usize, each: usize) -> (f64, f64) {
    let cluster = Cluster::start().await;
    let git = Scratch::new("memory-git");
    let repo = GitRepo::create(git.path(), "apps");
    let mut files = Vec::new();
    for a in 0..apps {
        for c in 0..each {
            files.push((
                format!("app-{a:03}/cm-{c:03}.yaml"),
                format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{c:03}\ndata:\n  value: \"{a}-{c}\"\n"),
            ));
        }
    }
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(p, c)| (p.as_str(), c.as_str())).collect();
    let head = repo.commit(&borrowed, "memory data");
    let daemon = GitDaemon::start(git.path());
    let controller = Controller::start(&cluster, "60s");
    controller.ready().await;
    for a in 0..apps {
        let name = format!("app-{a:03}");
        cluster
            .apply(&json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": name, "namespace": "argocd"},
            "spec": {
                "source": {"repoURL": daemon.url("apps"), "path": name, "targetRevision": "main"},
                "destination": {"server": "https://kubernetes.default.svc", "namespace": name},
                "syncPolicy": {"automated": {}, "syncOptions": ["CreateNamespace=true"]}
            }}))
            .await;
    }
    until_count(apps, || async {
        cluster
            .applications()
            .await
            .iter()
            .filter(|a| a["status"]["sync"]["revision"] == head.as_str() && a["status"]["sync"]["status"] == "Synced")
            .count()
    })
    .await;
    tokio::time::sleep(SETTLE).await;
    let rss = controller.rss_mib();
    drop(controller);
    let floor = Reflector::listed(&cluster, &["v1/ConfigMap"]).await;
    (rss, floor.rss_mib())
}

/// The memory rows: the Rollouts figure over one run (its size is the cost), the Applications
/// figure over `sizes.runs`.
pub async fn rows(sizes: Sizes) -> Vec<Row> {
    let (n, apps, each) = (sizes.memory_rollouts, sizes.memory_apps, sizes.memory_resources_each);
    let (rss, floor) = rollouts_once(n).await;
    let mut app_runs = Vec::new();
    for _ in 0..sizes.runs {
        app_runs.push(applications_once(apps, each).await);
    }
    let of = |f: fn(&(f64, f64)) -> f64| Summary::of(&app_runs.iter().map(f).collect::<Vec<_>>());
    vec![
        Row {
            scenario: "memory",
            figure: format!(
                "controller RSS with {n} Healthy Rollouts + {} ReplicaSets (1 run)",
                2 * n
            ),
            unit: "MiB",
            value: Summary::of(&[rss]),
            floor: Some((
                Summary::of(&[floor]),
                "a bare kube-rs reflector over the same Rollouts and ReplicaSets".into(),
            )),
            goal: "<= 1.5x",
        },
        Row {
            scenario: "memory",
            figure: format!(
                "controller RSS with {apps} Applications / {} managed ConfigMaps",
                apps * each
            ),
            unit: "MiB",
            value: of(|r| r.0),
            floor: Some((of(|r| r.1), "a bare kube-rs reflector over those ConfigMaps".into())),
            goal: "<= 1.5x",
        },
    ]
}
