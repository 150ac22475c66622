//! The memory floor: this binary's `reflector` command runs bare kube-rs reflectors (a watcher
//! feeding a store, nothing else) over the kinds it is given, all namespaces, and writes a file
//! once every store has listed. Rollouts and ReplicaSets are reflected typed, as the controller
//! holds them; any other kind as a `DynamicObject`, as the controller's live state holds the
//! resources of Applications.

use std::path::Path;

use futures::StreamExt as _;
use k8s_openapi::api::apps::v1::ReplicaSet;
use kube::api::{DynamicObject, GroupVersionKind};
use kube::runtime::reflector::{self, store::Writer};
use kube::runtime::{WatchStreamExt as _, watcher};
use kube::{Api, Client};

/// Spawns a reflector of `api` into `writer` and waits until its store has listed.
async fn reflect_into<K>(api: Api<K>, writer: reflector::store::Writer<K>)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    let store = writer.as_reader();
    let stream = reflector::reflector(writer, watcher(api, watcher::Config::default()).default_backoff());
    tokio::spawn(stream.for_each(|_| async {}));
    let _ = store.wait_until_ready().await;
}

async fn reflect(client: &Client, kind: &str) {
    match kind {
        "argoproj.io/v1alpha1/Rollout" => {
            reflect_into(Api::<crds::Rollout>::all(client.clone()), Writer::default()).await;
        }
        "apps/v1/ReplicaSet" => {
            reflect_into(Api::<ReplicaSet>::all(client.clone()), Writer::default()).await;
        }
        other => {
            let (group_version, kind) = other.rsplit_once('/').unwrap_or(("v1", other));
            let (group, version) = group_version.rsplit_once('/').unwrap_or(("", group_version));
            let gvk = GroupVersionKind::gvk(group, version, kind);
            let (resource, _) = kube::discovery::pinned_kind(client, &gvk).await.expect("a served kind");
            let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
            reflect_into(api, Writer::new(resource)).await;
        }
    }
}

/// Reflects `kinds` from the cluster of `kubeconfig`, writes `ready_file` once all have listed,
/// and runs until killed.
///
/// # Panics
/// When the cluster cannot be reached or a kind is not served.
pub async fn run(kubeconfig: &Path, kinds: &[String], ready_file: &Path) {
    let client = controller::manager::client(Some(kubeconfig)).await.expect("a client");
    for kind in kinds {
        reflect(&client, kind).await;
    }
    std::fs::write(ready_file, "listed").expect("the ready file");
    std::future::pending::<()>().await;
}
