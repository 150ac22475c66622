//! Deletion and watch semantics through kube-rs: finalizers, garbage collection of dependents in
//! the three propagation modes, and watches with label selectors.

// Test code: a failed unwrap is a failed test, which is what it should be.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams, PropagationPolicy};
use kube::runtime::watcher;
use kube::{Api, ResourceExt};
use serde_json::json;
use sim::Sim;

async fn setup() -> (Sim, Api<ConfigMap>) {
    let sim = Sim::start().await.unwrap();
    let api = Api::namespaced(sim.client().unwrap(), "default");
    (sim, api)
}

fn cm(name: &str) -> ConfigMap {
    let mut cm = ConfigMap::default();
    cm.metadata.name = Some(name.into());
    cm
}

/// Creates an owner and two dependents that reference it.
async fn family(api: &Api<ConfigMap>) -> String {
    let owner = api.create(&PostParams::default(), &cm("owner")).await.unwrap();
    for name in ["child-a", "child-b"] {
        let mut child = cm(name);
        child.metadata.owner_references = Some(vec![OwnerReference {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            name: "owner".into(),
            uid: owner.uid().unwrap(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }]);
        api.create(&PostParams::default(), &child).await.unwrap();
    }
    owner.uid().unwrap()
}

async fn names(api: &Api<ConfigMap>) -> Vec<String> {
    let mut names: Vec<String> = api
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .iter()
        .map(ResourceExt::name_any)
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn background_deletion_collects_dependents() {
    let (_sim, api) = setup().await;
    family(&api).await;
    api.delete("owner", &DeleteParams::background()).await.unwrap();
    // Dependents whose only owner is gone are garbage collected.
    assert!(names(&api).await.is_empty());
}

#[tokio::test]
async fn orphan_deletion_keeps_dependents_without_the_reference() {
    let (_sim, api) = setup().await;
    family(&api).await;
    api.delete("owner", &DeleteParams::orphan()).await.unwrap();
    assert_eq!(names(&api).await, ["child-a", "child-b"]);
    assert!(api.get("child-a").await.unwrap().owner_references().is_empty());
}

#[tokio::test]
async fn foreground_deletion_waits_for_dependents_with_finalizers() {
    let (_sim, api) = setup().await;
    family(&api).await;
    // child-b holds a finalizer, so it (and with it the owner) stays until the finalizer is removed.
    api.patch(
        "child-b",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": ["example.com/hold"]}})),
    )
    .await
    .unwrap();
    let params = DeleteParams {
        propagation_policy: Some(PropagationPolicy::Foreground),
        ..DeleteParams::default()
    };
    api.delete("owner", &params).await.unwrap();
    let owner = api.get("owner").await.unwrap();
    assert!(owner.metadata.deletion_timestamp.is_some());
    assert_eq!(owner.finalizers(), ["foregroundDeletion"]);
    assert!(api.get("child-b").await.unwrap().metadata.deletion_timestamp.is_some());
    assert_eq!(names(&api).await, ["child-b", "owner"]);
    // Removing the last finalizer deletes child-b, and then the owner.
    api.patch(
        "child-b",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    assert!(names(&api).await.is_empty());
}

#[tokio::test]
async fn finalizers_keep_a_deleted_object_until_removed() {
    let (_sim, api) = setup().await;
    let mut held = cm("held");
    held.metadata.finalizers = Some(vec!["example.com/cleanup".into()]);
    api.create(&PostParams::default(), &held).await.unwrap();
    api.delete("held", &DeleteParams::default()).await.unwrap();
    let marked = api.get("held").await.unwrap();
    assert!(marked.metadata.deletion_timestamp.is_some());
    api.patch(
        "held",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": []}})),
    )
    .await
    .unwrap();
    assert!(api.get("held").await.is_err());
}

#[tokio::test]
async fn a_watch_with_a_label_selector_sees_objects_enter_and_leave() {
    let (_sim, api) = setup().await;
    let mut events = watcher(api.clone(), watcher::Config::default().labels("tier=web")).boxed();
    // Drain the (empty) initial list.
    while !matches!(events.try_next().await.unwrap(), Some(watcher::Event::InitDone)) {}
    let mut web = cm("x");
    web.metadata.labels = Some(BTreeMap::from([("tier".to_owned(), "db".to_owned())]));
    api.create(&PostParams::default(), &web).await.unwrap();
    let relabel = |tier: &str| Patch::Merge(json!({"metadata": {"labels": {"tier": tier}}}));
    api.patch("x", &PatchParams::default(), &relabel("web")).await.unwrap();
    api.patch("x", &PatchParams::default(), &relabel("db")).await.unwrap();
    let seen = tokio::time::timeout(Duration::from_secs(5), async {
        let mut seen = Vec::new();
        while seen.len() < 2 {
            match events.try_next().await.unwrap().unwrap() {
                watcher::Event::Apply(o) => seen.push(format!("apply {}", o.labels()["tier"])),
                watcher::Event::Delete(o) => seen.push(format!("delete {}", o.labels()["tier"])),
                _ => {}
            }
        }
        seen
    })
    .await
    .unwrap();
    // Entering the selection is an ADDED event; leaving it is a DELETED event.
    assert_eq!(seen, ["apply web", "delete db"]);
}
