//! Runs the workload controllers against an API server through a `kube::Client`.

use std::sync::Arc;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt as _};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::Action;
use kube::runtime::reflector::{self, reflector};
use kube::runtime::{Controller, WatchStreamExt as _, watcher};
use kube::{Api, Client, ResourceExt};
use serde_json::json;
use tokio::task::JoinHandle;

use super::deployment::{self, Change};
use super::service_index::ServiceIndex;
use super::{endpoints, job, kubelet, podsets, replicaset};

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
    /// A request could not be built.
    #[error("cannot build request: {0}")]
    Request(String),
    /// An object without namespace or name.
    #[error("object has no {0}")]
    Missing(&'static str),
}

fn requeue(after: Option<Duration>) -> Action {
    after.map_or_else(Action::await_change, Action::requeue)
}

/// Treats "the object is gone" as done: a pod deleted meanwhile needs nothing more.
fn ignore_gone<T>(result: Result<T, kube::Error>) -> Result<(), WorkloadError> {
    match result {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(e) => Err(e.into()),
    }
}

async fn reconcile_pod(pod: Arc<Pod>, client: Arc<Client>) -> Result<Action, WorkloadError> {
    let decision = kubelet::decide(&pod, jiff::Timestamp::now());
    let ns = pod.namespace().ok_or(WorkloadError::Missing("namespace"))?;
    let api: Api<Pod> = Api::namespaced((*client).clone(), &ns);
    if decision.bind {
        let binding = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": pod.name_any()}, "target": {"kind": "Node", "name": kubelet::NODE}});
        let request = http::Request::post(format!("/api/v1/namespaces/{ns}/pods/{}/binding", pod.name_any()))
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&binding)?)
            .map_err(|e| WorkloadError::Request(e.to_string()))?;
        match client.request_text(request).await {
            // 409: bound already (a pass on a stale cache); 404: gone. Either way, done.
            Err(kube::Error::Api(s)) if s.code == 409 || s.code == 404 => {}
            other => {
                other?;
            }
        }
        return Ok(Action::await_change());
    }
    if decision.delete {
        ignore_gone(
            api.delete(
                &pod.name_any(),
                &DeleteParams {
                    grace_period_seconds: Some(0),
                    ..DeleteParams::default()
                },
            )
            .await,
        )?;
        return Ok(Action::await_change());
    }
    if let Some(status) = decision.status {
        ignore_gone(
            api.patch_status(
                &pod.name_any(),
                &PatchParams::apply(MANAGER),
                &Patch::Merge(json!({"status": status})),
            )
            .await,
        )?;
    }
    Ok(requeue(decision.requeue))
}

/// Creates `count` pods from a pod document.
async fn create_pods(api: &Api<Pod>, pod: serde_json::Value, count: usize) -> Result<(), WorkloadError> {
    let pod: Pod = serde_json::from_value(pod)?;
    for _ in 0..count {
        api.create(
            &PostParams {
                field_manager: Some(MANAGER.into()),
                ..PostParams::default()
            },
            &pod,
        )
        .await?;
    }
    Ok(())
}

/// Writes a status through the status subresource.
async fn write_status<K>(api: &Api<K>, name: &str, status: serde_json::Value) -> Result<(), WorkloadError>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    api.patch_status(name, &PatchParams::default(), &Patch::Merge(json!({"status": status})))
        .await?;
    Ok(())
}

async fn reconcile_replicaset(rs: Arc<ReplicaSet>, client: Arc<Client>) -> Result<Action, WorkloadError> {
    // kube's `syncReplicaSet` manages replicas only while the ReplicaSet is not being deleted.
    if rs.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let ns = rs.namespace().ok_or(WorkloadError::Missing("namespace"))?;
    let pods_api: Api<Pod> = Api::namespaced((*client).clone(), &ns);
    let selector = crds::meta::selector_string(&rs.spec.selector);
    let pods = pods_api.list(&ListParams::default().labels(&selector)).await?.items;
    let owned: Vec<&Pod> = replicaset::owned(&rs, &pods);
    let decision = replicaset::decide(&rs, &owned, jiff::Timestamp::now());
    create_pods(&pods_api, replicaset::new_pod(&rs), decision.create).await?;
    for name in &decision.delete {
        ignore_gone(pods_api.delete(name, &DeleteParams::default()).await)?;
    }
    if let Some(status) = decision.status {
        write_status(
            &Api::<ReplicaSet>::namespaced((*client).clone(), &ns),
            &rs.name_any(),
            status,
        )
        .await?;
    }
    Ok(requeue(decision.requeue))
}

async fn reconcile_deployment(deploy: Arc<Deployment>, client: Arc<Client>) -> Result<Action, WorkloadError> {
    // A Deployment being deleted creates and scales nothing (kube's `syncDeployment` only syncs
    // its status then): a foreground deletion that took its ReplicaSet must not see a new one.
    if deploy.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let ns = deploy.namespace().ok_or(WorkloadError::Missing("namespace"))?;
    let uid = deploy.uid().ok_or(WorkloadError::Missing("uid"))?;
    let rs_api: Api<ReplicaSet> = Api::namespaced((*client).clone(), &ns);
    // The ReplicaSets the selector matches (the server reads them through its label index),
    // then those this Deployment controls.
    let selector = crds::meta::selector_string(&deploy.spec.selector);
    let all = rs_api.list(&ListParams::default().labels(&selector)).await?.items;
    let owned: Vec<&ReplicaSet> = all
        .iter()
        .filter(|rs| {
            rs.owner_references()
                .iter()
                .any(|r| r.uid == uid && r.controller == Some(true))
        })
        .collect();
    let decision = deployment::decide(&deploy, &owned, jiff::Timestamp::now());
    for change in decision.changes {
        match change {
            Change::Create(rs) => {
                let rs: ReplicaSet = serde_json::from_value(rs)?;
                rs_api
                    .create(
                        &PostParams {
                            field_manager: Some(MANAGER.into()),
                            ..PostParams::default()
                        },
                        &rs,
                    )
                    .await?;
            }
            Change::Scale(name, replicas) => {
                rs_api
                    .patch(
                        &name,
                        &PatchParams::default(),
                        &Patch::Merge(json!({"spec": {"replicas": replicas}})),
                    )
                    .await?;
            }
            Change::Delete(name) => ignore_gone(rs_api.delete(&name, &DeleteParams::default()).await)?,
        }
    }
    if let Some(status) = decision.status {
        write_status(
            &Api::<Deployment>::namespaced((*client).clone(), &ns),
            &deploy.name_any(),
            status,
        )
        .await?;
    }
    Ok(requeue(decision.requeue))
}

/// Pods in a namespace that `selector` matches and whose controller reference is `uid`.
async fn owned_pods(client: &Client, ns: &str, uid: &str, selector: &str) -> Result<Vec<Pod>, WorkloadError> {
    let pods = Api::<Pod>::namespaced(client.clone(), ns)
        .list(&ListParams::default().labels(selector))
        .await?
        .items;
    Ok(pods
        .into_iter()
        .filter(|p| {
            p.owner_references()
                .iter()
                .any(|r| r.uid == uid && r.controller == Some(true))
        })
        .collect())
}

/// Carries out a StatefulSet or DaemonSet decision.
async fn apply_podset<K>(
    client: &Client,
    ns: &str,
    name: &str,
    decision: podsets::Decision,
) -> Result<(), WorkloadError>
where
    K: kube::Resource<Scope = kube::core::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    let pods_api: Api<Pod> = Api::namespaced(client.clone(), ns);
    for pod in decision.create {
        match create_pods(&pods_api, pod, 1).await {
            // A pod with a fixed name that exists already (a race with the last pass) is fine.
            Err(WorkloadError::Kube(kube::Error::Api(s))) if s.code == 409 => {}
            other => other?,
        }
    }
    for victim in &decision.delete {
        ignore_gone(pods_api.delete(victim, &DeleteParams::default()).await)?;
    }
    if let Some(status) = decision.status {
        write_status(&Api::<K>::namespaced(client.clone(), ns), name, status).await?;
    }
    Ok(())
}

async fn reconcile_statefulset(sts: Arc<StatefulSet>, client: Arc<Client>) -> Result<Action, WorkloadError> {
    let ns = sts.namespace().ok_or(WorkloadError::Missing("namespace"))?;
    let uid = sts.uid().ok_or(WorkloadError::Missing("uid"))?;
    let pods = owned_pods(&client, &ns, &uid, &crds::meta::selector_string(&sts.spec.selector)).await?;
    let decision = podsets::statefulset(&sts, &pods.iter().collect::<Vec<_>>());
    apply_podset::<StatefulSet>(&client, &ns, &sts.name_any(), decision).await?;
    Ok(Action::await_change())
}

async fn reconcile_daemonset(ds: Arc<DaemonSet>, client: Arc<Client>) -> Result<Action, WorkloadError> {
    let ns = ds.namespace().ok_or(WorkloadError::Missing("namespace"))?;
    let uid = ds.uid().ok_or(WorkloadError::Missing("uid"))?;
    let pods = owned_pods(&client, &ns, &uid, &crds::meta::selector_string(&ds.spec.selector)).await?;
    let decision = podsets::daemonset(&ds, &pods.iter().collect::<Vec<_>>());
    apply_podset::<DaemonSet>(&client, &ns, &ds.name_any(), decision).await?;
    Ok(Action::await_change())
}

async fn reconcile_job(job: Arc<Job>, client: Arc<Client>) -> Result<Action, WorkloadError> {
    let ns = job.namespace().ok_or(WorkloadError::Missing("namespace"))?;
    let uid = job.uid().ok_or(WorkloadError::Missing("uid"))?;
    let pods_api: Api<Pod> = Api::namespaced((*client).clone(), &ns);
    let pods = pods_api
        .list(&ListParams::default().labels(&format!("batch.kubernetes.io/controller-uid={uid}")))
        .await?
        .items;
    let decision = job::decide(&job, &pods.iter().collect::<Vec<_>>(), jiff::Timestamp::now());
    create_pods(&pods_api, job::new_pod(&job), decision.create).await?;
    if let Some(status) = decision.status {
        write_status(&Api::<Job>::namespaced((*client).clone(), &ns), &job.name_any(), status).await?;
    }
    Ok(Action::await_change())
}

async fn reconcile_service(service: Arc<Service>, client: Arc<Client>) -> Result<Action, WorkloadError> {
    let ns = service.namespace().ok_or(WorkloadError::Missing("namespace"))?;
    // Only the pods the selector matches (none without a selector: the slice goes).
    let selector: Vec<String> = service
        .spec
        .as_ref()
        .and_then(|s| s.selector.as_ref())
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let pods = if selector.is_empty() {
        Vec::new()
    } else {
        Api::<Pod>::namespaced((*client).clone(), &ns)
            .list(&ListParams::default().labels(&selector.join(",")))
            .await?
            .items
    };
    let slices: Api<EndpointSlice> = Api::namespaced((*client).clone(), &ns);
    match endpoints::slice(&service, &pods) {
        Some(slice) => {
            slices
                .patch(
                    &service.name_any(),
                    &PatchParams::apply(MANAGER).force(),
                    &Patch::Apply(slice),
                )
                .await?;
        }
        None => ignore_gone(slices.delete(&service.name_any(), &DeleteParams::default()).await)?,
    }
    Ok(Action::await_change())
}

fn retry<K>(_: Arc<K>, error: &WorkloadError, _: Arc<Client>) -> Action {
    tracing::warn!(%error, "workload reconcile failed; retrying");
    Action::requeue(Duration::from_millis(500))
}

/// Starts the kubelet and the ReplicaSet, Deployment, StatefulSet, DaemonSet, Job and EndpointSlice
/// controllers; they run until the handle is aborted.
#[must_use]
pub fn spawn(client: Client) -> JoinHandle<()> {
    let ctx = Arc::new(client.clone());
    let kubelet = Controller::new(Api::<Pod>::all(client.clone()), watcher::Config::default())
        .run(reconcile_pod, retry, ctx.clone())
        .for_each(|_| async {});
    let replicasets = Controller::new(Api::<ReplicaSet>::all(client.clone()), watcher::Config::default())
        .owns(Api::<Pod>::all(client.clone()), watcher::Config::default())
        .run(reconcile_replicaset, retry, ctx.clone())
        .for_each(|_| async {});
    let deployments = Controller::new(Api::<Deployment>::all(client.clone()), watcher::Config::default())
        .owns(Api::<ReplicaSet>::all(client.clone()), watcher::Config::default())
        .run(reconcile_deployment, retry, ctx.clone())
        .for_each(|_| async {});
    let statefulsets = Controller::new(Api::<StatefulSet>::all(client.clone()), watcher::Config::default())
        .owns(Api::<Pod>::all(client.clone()), watcher::Config::default())
        .run(reconcile_statefulset, retry, ctx.clone())
        .for_each(|_| async {});
    let daemonsets = Controller::new(Api::<DaemonSet>::all(client.clone()), watcher::Config::default())
        .owns(Api::<Pod>::all(client.clone()), watcher::Config::default())
        .run(reconcile_daemonset, retry, ctx.clone())
        .for_each(|_| async {});
    let ctx_services = ctx.clone();
    let jobs = Controller::new(Api::<Job>::all(client.clone()), watcher::Config::default())
        .owns(Api::<Pod>::all(client.clone()), watcher::Config::default())
        .run(reconcile_job, retry, ctx.clone())
        .for_each(|_| async {});
    // Services come through a reflector whose events also keep the selector index the pod
    // mapping reads.
    let index = Arc::new(parking_lot::RwLock::new(ServiceIndex::default()));
    let (reader, writer) = reflector::store();
    let indexing = index.clone();
    let service_events = reflector(
        writer,
        watcher(Api::<Service>::all(client.clone()), watcher::Config::default()),
    )
    .inspect_ok(move |event| indexing.write().apply(event))
    .default_backoff()
    .touched_objects();
    let services = Controller::for_stream(service_events, reader)
        .watches(Api::<Pod>::all(client), watcher::Config::default(), move |pod: Pod| {
            index.read().selecting(&pod)
        })
        .run(reconcile_service, retry, ctx_services)
        .for_each(|_| async {});
    tokio::spawn(async move {
        tokio::join!(
            kubelet,
            replicasets,
            deployments,
            statefulsets,
            daemonsets,
            jobs,
            services
        );
    })
}
