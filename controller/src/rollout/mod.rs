//! The Rollout reconciler: moves each new version of a Rollout's pods through canary steps or a
//! blue-green switch, as Argo Rollouts' `rolloutContext.reconcile` does.
//!
//! Reconcile ([`reconcile`]) = observe ([`observe`]: the Rollout, its ReplicaSets, AnalysisRuns,
//! Services and templates from watch caches) → decide ([`decide`], pure) → execute ([`execute`],
//! idempotent writes) → write the status ([`status`]) only when it changed. This file wires the
//! watches.

pub mod context;
pub mod decide;
pub mod execute;
pub mod identity;
pub mod observe;
pub mod plan;
pub mod reconcile;
pub mod replicas;
pub mod snapshot;
pub mod status;
pub mod traffic;

use std::sync::Arc;

use crds::analysis::{AnalysisTemplate, ClusterAnalysisTemplate};
use crds::keys::MANAGED_BY_ANNOTATION;
use crds::rollout::{RolloutPhase, TemplateRef};
use crds::{AnalysisRun, Rollout};
use futures::StreamExt;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Service;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use kube::{Api, ResourceExt as _};

pub use context::{RolloutContext, Stores};
pub use decide::decide;

use crate::Context;
use crate::metrics::{Metrics, RolloutLabels};
use crate::scope::Scope;
use crate::shutdown::Shutdown;
use crate::watches::{log_errors, reflect, reflect_indexed};

/// Runs the Rollout reconciler until `shutdown` (in-flight reconciles finish first).
pub async fn run(ctx: Context, scope: &Scope, shutdown: Shutdown) {
    let client = ctx.client.clone();
    let all = watcher::Config::default;
    let (replicasets, rs_stream) = reflect_indexed(scope.api::<ReplicaSet>(&client), all());
    let (runs, run_stream) = reflect_indexed(scope.api::<AnalysisRun>(&client), all());
    let (services, svc_stream) = reflect(scope.api::<Service>(&client), all());
    let (templates, tpl_stream) = reflect(scope.api::<AnalysisTemplate>(&client), all());
    let (cluster_templates, cluster_stream) = reflect(Api::<ClusterAnalysisTemplate>::all(client.clone()), all());
    let stores = Stores {
        replicasets,
        runs,
        services,
        templates,
        cluster_templates,
        ready: Arc::default(),
    };
    let readiness = stores.watch_readiness();
    let config = all().labels(&scope.instance_selector());
    let controller = crate::watches::controller(
        scope.api::<Rollout>(&client),
        config,
        crate::watches::RECONCILES_IN_FLIGHT,
    );
    let rollouts = controller.store();
    let (by_service, by_template, by_cluster_template) = (rollouts.clone(), rollouts.clone(), rollouts.clone());
    let phases = tokio::spawn(count_phases(rollouts, ctx.metrics.clone()));
    let context = Arc::new(RolloutContext {
        base: ctx,
        stores,
        held: context::HeldCounts::default(),
    });
    controller
        .owns_stream(rs_stream)
        .owns_stream(run_stream)
        .watches_stream(svc_stream, move |svc: Service| naming_service(&by_service, &svc))
        .watches_stream(tpl_stream, move |template: AnalysisTemplate| {
            let reference = TemplateRef {
                cluster: false,
                name: template.name_any(),
            };
            referencing(&by_template, &reference, template.namespace().as_deref())
        })
        .watches_stream(cluster_stream, move |template: ClusterAnalysisTemplate| {
            let reference = TemplateRef {
                cluster: true,
                name: template.name_any(),
            };
            referencing(&by_cluster_template, &reference, None)
        })
        .graceful_shutdown_on(shutdown.wait())
        .run(reconcile::reconcile, reconcile::error_policy, context)
        .for_each(|result| log_errors("rollout", result))
        .await;
    phases.abort();
    readiness.abort();
}

/// Rollouts that name a Service (so a Service created after its Rollout wakes it), or that manage it.
fn naming_service(store: &Store<Rollout>, svc: &Service) -> Vec<ObjectRef<Rollout>> {
    let name = svc.name_any();
    let manager = svc.annotations().get(MANAGED_BY_ANNOTATION).cloned();
    store
        .state()
        .iter()
        .filter(|r| r.namespace() == svc.namespace())
        .filter(|r| manager.as_deref() == Some(r.name_any().as_str()) || r.service_names().contains(&name))
        .map(|r| ObjectRef::from_obj(&**r))
        .collect()
}

/// Rollouts that reference a template (so a template created after its Rollout wakes it); a
/// ClusterAnalysisTemplate (`namespace` `None`) can be referenced from every namespace.
fn referencing(store: &Store<Rollout>, template: &TemplateRef, namespace: Option<&str>) -> Vec<ObjectRef<Rollout>> {
    store
        .state()
        .iter()
        .filter(|r| namespace.is_none() || r.namespace().as_deref() == namespace)
        .filter(|r| r.references_template(template))
        .map(|r| ObjectRef::from_obj(&**r))
        .collect()
}

/// Keeps the rollouts-by-phase gauge current (from the watch cache, so deleted Rollouts drop out).
async fn count_phases(store: Store<Rollout>, metrics: Arc<Metrics>) {
    const UNKNOWN: &str = "Unknown";
    loop {
        let mut counts: std::collections::BTreeMap<&'static str, i64> =
            RolloutPhase::ALL.iter().map(|p| (p.as_str(), 0)).collect();
        counts.insert(UNKNOWN, 0);
        for rollout in store.state() {
            let phase = rollout.status.as_ref().and_then(|s| s.phase);
            *counts.entry(phase.map_or(UNKNOWN, RolloutPhase::as_str)).or_default() += 1;
        }
        for (phase, count) in counts {
            metrics.rollouts.get_or_create(&RolloutLabels { phase }).set(count);
        }
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    }
}
