//! Runs the workload controllers against an API server through a `kube::Client`.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::Action;
use kube::runtime::{Controller, watcher};
use kube::{Api, Client, ResourceExt};
use serde_json::json;
use tokio::task::JoinHandle;

use super::{kubelet, replicaset};

/// Field manager of the simulator's writes.
const MANAGER: &str = "sluice-sim";

/// An error while reconciling a workload object.
#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    /// The API server refused or could not be reached.
    #[error("API request failed")]
    Kube(#[from] kube::Error),
    /// An object could not be converted.
    #[error("cannot convert object")]
    Convert(#[from] serde_json::Error),
    /// An object without namespace or name.
    #[error("object has no {0}")]
    Missing(&'static str),
}

fn requeue(after: Option<Duration>) -> Action {
    after.map_or_else(Action::await_change, Action::requeue)
}

async fn reconcile_pod(pod: Arc<Pod>, client: Arc<Client>) -> Result<Action, WorkloadError> {
    let decision = kubelet::decide(&pod, jiff::Timestamp::now());
    if let Some(status) = decision.status {
        let ns = pod.namespace().ok_or(WorkloadError::Missing("namespace"))?;
        let api: Api<Pod> = Api::namespaced((*client).clone(), &ns);
        match api
            .patch_status(
                &pod.name_any(),
                &PatchParams::apply(MANAGER),
                &Patch::Merge(json!({"status": status})),
            )
            .await
        {
            Ok(_) => {}
            // The pod went away meanwhile: nothing to do.
            Err(kube::Error::Api(s)) if s.code == 404 => return Ok(Action::await_change()),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(requeue(decision.requeue))
}

async fn reconcile_replicaset(rs: Arc<ReplicaSet>, client: Arc<Client>) -> Result<Action, WorkloadError> {
    let ns = rs.namespace().ok_or(WorkloadError::Missing("namespace"))?;
    let pods_api: Api<Pod> = Api::namespaced((*client).clone(), &ns);
    let selector = rs
        .spec
        .selector
        .match_labels
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    let pods = pods_api.list(&ListParams::default().labels(&selector)).await?.items;
    let owned: Vec<&Pod> = replicaset::owned(&rs, &pods);
    let decision = replicaset::decide(&rs, &owned, jiff::Timestamp::now());
    for _ in 0..decision.create {
        let pod: Pod = serde_json::from_value(replicaset::new_pod(&rs))?;
        pods_api
            .create(
                &PostParams {
                    field_manager: Some(MANAGER.into()),
                    ..PostParams::default()
                },
                &pod,
            )
            .await?;
    }
    for name in &decision.delete {
        match pods_api.delete(name, &DeleteParams::default()).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(status) = decision.status {
        let api: Api<ReplicaSet> = Api::namespaced((*client).clone(), &ns);
        api.patch_status(
            &rs.name_any(),
            &PatchParams::default(),
            &Patch::Merge(json!({"status": status})),
        )
        .await?;
    }
    Ok(requeue(decision.requeue))
}

fn retry<K>(_: Arc<K>, error: &WorkloadError, _: Arc<Client>) -> Action {
    tracing::warn!(%error, "workload reconcile failed; retrying");
    Action::requeue(Duration::from_millis(500))
}

/// Starts the kubelet and the ReplicaSet controller; they run until the handle is aborted.
#[must_use]
pub fn spawn(client: Client) -> JoinHandle<()> {
    let ctx = Arc::new(client.clone());
    let kubelet = Controller::new(Api::<Pod>::all(client.clone()), watcher::Config::default())
        .run(reconcile_pod, retry, ctx.clone())
        .for_each(|_| async {});
    let replicasets = Controller::new(Api::<ReplicaSet>::all(client.clone()), watcher::Config::default())
        .owns(Api::<Pod>::all(client), watcher::Config::default())
        .run(reconcile_replicaset, retry, ctx)
        .for_each(|_| async {});
    tokio::spawn(async move {
        tokio::join!(kubelet, replicasets);
    })
}
