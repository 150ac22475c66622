//! Taking Applications over from Argo CD: resources Argo CD applied (client-side `kubectl apply`,
//! its tracking annotation, its field manager) and an Application with Argo CD's status are
//! found Synced and Healthy when Sluice starts, and Sluice writes none of them: no sync
//! operation runs and no managed field becomes Sluice's.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::gitops::{ControllerProcess, apply, cluster, get, states, until_app};
use tests::git::{GitDaemon, GitRepo};

const CONFIG: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  level: info\n";
const WEB: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n      annotations: {sim.sluice.dev/start-delay: 100ms}\n    spec:\n      containers:\n      - name: web\n        image: web:1\n";

/// The manifest as Argo CD applies it: its tracking annotation added.
fn as_argo_cd_applies(manifest: &str, id: &str) -> String {
    let mut object: Value = crds::yaml::from_str(manifest).unwrap();
    object["metadata"]["annotations"] = json!({"argocd.argoproj.io/tracking-id": id});
    object["metadata"]["namespace"] = json!("shop");
    serde_json::to_string(&object).unwrap()
}

fn managers(object: &Value) -> Vec<String> {
    object["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["manager"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applications_argo_cd_synced_are_found_synced_and_left_untouched() {
    let (sim, client) = cluster().await;
    let served = sim.dir.path().join("git");
    std::fs::create_dir_all(&served).unwrap();
    let repo = GitRepo::create(&served, "shop");
    let revision = repo.commit(&[("web/config.yaml", CONFIG), ("web/web.yaml", WEB)], "shop");
    let daemon = GitDaemon::start(&served);

    // What Argo CD left: the namespace, the resources applied client-side by its manager, and the
    // Application with its last sync recorded.
    sim.kubectl_ok(&["create", "namespace", "shop"], None);
    for (manifest, id) in [
        (CONFIG, "web:/ConfigMap:shop/settings"),
        (WEB, "web:apps/Deployment:shop/web"),
    ] {
        sim.kubectl_ok(
            &["apply", "--field-manager", "argocd-controller", "-f", "-"],
            Some(&as_argo_cd_applies(manifest, id)),
        );
    }
    let application = json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": "web", "namespace": "argocd"},
        "spec": {
            "source": {"repoURL": daemon.url("shop"), "path": "web", "targetRevision": "main"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "shop"},
            "syncPolicy": {"automated": {"prune": true, "selfHeal": true}},
        },
    });
    apply(&client, &application).await;
    let argo_status = json!({"status": {
        "sync": {"status": "Synced", "revision": revision},
        "health": {"status": "Healthy"},
        "operationState": {"phase": "Succeeded", "message": "successfully synced (all tasks run)",
                           "startedAt": "2026-11-30T10:00:00Z", "finishedAt": "2026-11-30T10:00:05Z",
                           "operation": {"sync": {"revision": revision}},
                           "syncResult": {"revision": revision, "resources": []}},
        "history": [{"id": 0, "revision": revision, "deployedAt": "2026-11-30T10:00:05Z"}],
    }});
    let apps = support::gitops::dynamic(&client, &application).await;
    apps.patch_status(
        "web",
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(&argo_status),
    )
    .await
    .unwrap();
    let started_at = |a: &Value| a["status"]["operationState"]["startedAt"].clone();

    let _controller = ControllerProcess::start(&sim, &[]);
    let seen = until_app(
        &client,
        "web",
        "Synced and Healthy by Sluice",
        Duration::from_secs(60),
        |a| {
            a["status"]["sync"]["revision"] == revision.as_str()
                && a["status"]["resources"].as_array().is_some_and(|r| r.len() == 2)
                && states(a).0 == "Synced"
                && states(a).1 == "Healthy"
        },
    )
    .await;
    let after = support::gitops::refreshed(&client, "web").await;
    assert_eq!(states(&after).0, "Synced");
    assert_eq!(
        started_at(&after),
        json!("2026-11-30T10:00:00Z"),
        "no sync operation ran: {}",
        seen["status"]["operationState"]
    );
    for (api_version, kind, name) in [("v1", "ConfigMap", "settings"), ("apps/v1", "Deployment", "web")] {
        let live = get(&client, api_version, kind, "shop", name).await.unwrap();
        let managers = managers(&live);
        assert!(
            !managers.iter().any(|m| m == "sluice"),
            "{kind}/{name} was written by Sluice: {managers:?}"
        );
    }
}
