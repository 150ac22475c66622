//! Running the Rollout controller: watches on Rollouts (filtered by controller instance id), owned
//! ReplicaSets and AnalysisRuns, referenced Services and analysis templates, all feeding the caches
//! the decision reads.

use std::sync::Arc;

use crds::analysis::{AnalysisTemplate, ClusterAnalysisTemplate};
use crds::{AnalysisRun, Rollout};
use futures::StreamExt;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Service;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{Controller, WatchStreamExt, watcher};
use kube::{Api, ResourceExt as _};

use super::labels::{INSTANCE_ID_LABEL, MANAGED_BY_ANNOTATION};
use super::observe::Stores;
use super::reconcile::{error_policy, reconcile};
use crate::Context;

/// What the Rollout reconciler gets: the shared context and the watch caches.
#[derive(Clone, Debug)]
pub struct RolloutContext {
    /// Client, recorder, metrics.
    pub base: Context,
    /// Watch caches.
    pub stores: Stores,
}

fn api<K>(client: &kube::Client, namespace: Option<&str>) -> Api<K>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    K::DynamicType: Default,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// The label selector of the objects an instance handles: its own id, or no id at all.
#[must_use]
pub fn instance_selector(instance_id: Option<&str>) -> String {
    match instance_id {
        Some(id) => format!("{INSTANCE_ID_LABEL}={id}"),
        None => format!("!{INSTANCE_ID_LABEL}"),
    }
}

/// A reflector-backed watch: its cache and its stream of changed objects.
fn reflect<K>(
    api: Api<K>,
    config: watcher::Config,
) -> (Store<K>, impl futures::Stream<Item = Result<K, watcher::Error>>)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
    K::DynamicType: Default + Eq + std::hash::Hash + Clone,
{
    let (store, writer) = reflector::store();
    let stream = reflector::reflector(writer, watcher(api, config).default_backoff()).touched_objects();
    (store, stream)
}

/// Runs the Rollout controller until `shutdown` completes (in-flight reconciles finish first).
pub async fn run(
    ctx: Context,
    namespace: Option<&str>,
    instance_id: Option<&str>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let client = ctx.client.clone();
    let (rs_store, rs_stream) = reflect(api::<ReplicaSet>(&client, namespace), watcher::Config::default());
    let (run_store, run_stream) = reflect(api::<AnalysisRun>(&client, namespace), watcher::Config::default());
    let (svc_store, svc_stream) = reflect(api::<Service>(&client, namespace), watcher::Config::default());
    let (tpl_store, tpl_stream) = reflect(api::<AnalysisTemplate>(&client, namespace), watcher::Config::default());
    let (cluster_store, cluster_stream) = reflect(
        Api::<ClusterAnalysisTemplate>::all(client.clone()),
        watcher::Config::default(),
    );
    let stores = Stores {
        replicasets: rs_store,
        runs: run_store,
        services: svc_store,
        templates: tpl_store,
        cluster_templates: cluster_store,
    };
    let rollouts = api::<Rollout>(&client, namespace);
    let config = watcher::Config::default().labels(&instance_selector(instance_id));
    let controller = Controller::new(rollouts, config);
    let rollout_store = controller.store();
    let by_template = rollout_store.clone();
    let by_service_store = rollout_store.clone();
    let by_cluster_template = rollout_store.clone();
    tokio::spawn(count_phases(rollout_store.clone(), ctx.metrics.clone()));
    let context = Arc::new(RolloutContext { base: ctx, stores });
    controller
        .owns_stream(rs_stream)
        .owns_stream(run_stream)
        .watches_stream(svc_stream, move |svc: Service| by_service(&by_service_store, &svc))
        .watches_stream(tpl_stream, move |template: AnalysisTemplate| {
            referencing(&by_template, false, &template.name_any(), template.namespace())
        })
        .watches_stream(cluster_stream, move |template: ClusterAnalysisTemplate| {
            referencing(&by_cluster_template, true, &template.name_any(), None)
        })
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, context)
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(%error, "rollout controller stream");
            }
        })
        .await;
}

/// Rollouts that name a Service (so a Service created after its Rollout wakes it), or that manage it.
fn by_service(store: &Store<Rollout>, svc: &Service) -> Vec<ObjectRef<Rollout>> {
    let name = svc.name_any();
    let manager = svc.annotations().get(MANAGED_BY_ANNOTATION).cloned();
    store
        .state()
        .iter()
        .filter(|r| r.namespace() == svc.namespace())
        .filter(|r| {
            manager.as_deref() == Some(r.name_any().as_str()) || super::decide::service_names(r).contains(&name)
        })
        .map(|r| ObjectRef::from_obj(&**r))
        .collect()
}

/// Rollouts that reference a template (so a template created after its Rollout wakes it).
fn referencing(
    store: &Store<Rollout>,
    cluster: bool,
    name: &str,
    namespace: Option<String>,
) -> Vec<ObjectRef<Rollout>> {
    store
        .state()
        .iter()
        .filter(|r| cluster || r.namespace() == namespace)
        .filter(|r| {
            serde_json::to_string(&r.spec.strategy).is_ok_and(|s| s.contains(&format!("\"templateName\":\"{name}\"")))
        })
        .map(|r| ObjectRef::from_obj(&**r))
        .collect()
}

/// Keeps the rollouts-by-phase gauge current (from the watch cache, so deleted Rollouts drop out).
async fn count_phases(store: Store<Rollout>, metrics: Arc<crate::telemetry::Metrics>) {
    use crate::telemetry::RolloutLabels;
    use crds::rollout::RolloutPhase;
    let label = |phase: Option<RolloutPhase>| match phase {
        Some(RolloutPhase::Healthy) => "Healthy",
        Some(RolloutPhase::Progressing) => "Progressing",
        Some(RolloutPhase::Paused) => "Paused",
        Some(RolloutPhase::Degraded) => "Degraded",
        None => "Unknown",
    };
    loop {
        let mut counts = std::collections::BTreeMap::<&'static str, i64>::new();
        for phase in ["Healthy", "Progressing", "Paused", "Degraded", "Unknown"] {
            counts.insert(phase, 0);
        }
        for rollout in store.state() {
            *counts
                .entry(label(rollout.status.as_ref().and_then(|s| s.phase)))
                .or_default() += 1;
        }
        for (phase, count) in counts {
            metrics.rollouts.get_or_create(&RolloutLabels { phase }).set(count);
        }
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    }
}
