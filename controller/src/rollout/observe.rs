//! Reading what a decision needs from the watch caches (and, while a restart runs, the pods).

use std::collections::BTreeMap;
use std::sync::Arc;

use crds::meta::{selector_is_empty, selector_matches, selector_string};
use crds::{AnalysisRun, Rollout};
use jiff::Timestamp;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Pod;
use kube::api::ListParams;
use kube::runtime::reflector::ObjectRef;
use kube::{Api, ResourceExt as _};

use super::context::Stores;
use super::snapshot::Snapshot;
use crate::read::{self, Read, Unreadable};
use crate::{Error, ObjectKey, Result};

fn missing(rollout: &Rollout, field: &'static str) -> Error {
    Error::MissingField {
        kind: "Rollout",
        name: rollout.name_any(),
        field,
    }
}

/// The ReplicaSets the Rollout controls, and orphans its selector matches (to adopt).
fn replicasets(stores: &Stores, rollout: &Rollout, namespace: &str, uid: &str) -> Vec<ReplicaSet> {
    let selector = rollout.spec.selector.clone().unwrap_or_default();
    let orphans = stores.replicasets.orphans_in(namespace).into_iter().filter(|rs| {
        rs.metadata.deletion_timestamp.is_none()
            && !selector_is_empty(&selector)
            && selector_matches(&selector, rs.labels()).unwrap_or(false)
    });
    stores
        .replicasets
        .controlled_by(uid)
        .into_iter()
        .filter(|rs| rs.metadata.namespace.as_deref() == Some(namespace))
        .chain(orphans)
        .map(|rs| (*rs).clone())
        .collect()
}

fn runs(stores: &Stores, namespace: &str, uid: &str) -> Vec<AnalysisRun> {
    stores
        .runs
        .controlled_by(uid)
        .into_iter()
        .filter(|r| r.metadata.namespace.as_deref() == Some(namespace))
        .map(|r| (*r).clone())
        .collect()
}

/// The pods of the Rollout's ReplicaSets, read only while a restart is pending.
async fn pods_to_restart(
    client: &kube::Client,
    rollout: &Rollout,
    namespace: &str,
    replicasets: &[ReplicaSet],
) -> Result<Vec<Pod>> {
    let restart_pending = rollout
        .spec
        .restart_at
        .as_ref()
        .is_some_and(|at| rollout.status.as_ref().and_then(|s| s.restarted_at.as_ref()) != Some(at));
    if !restart_pending {
        return Ok(Vec::new());
    }
    let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let labels = selector_string(&rollout.spec.selector.clone().unwrap_or_default());
    let pods = api.list(&ListParams::default().labels(&labels)).await.map_err(|e| {
        Error::kube(
            "listing the pods of",
            ObjectKey::namespaced("Rollout", namespace, &rollout.name_any()),
            e,
        )
    })?;
    Ok(pods
        .items
        .into_iter()
        .filter(|p| {
            p.owner_references()
                .iter()
                .any(|o| replicasets.iter().any(|rs| rs.metadata.uid.as_ref() == Some(&o.uid)))
        })
        .collect())
}

/// A template read from the API server: only a 404 is absent.
async fn template_from_api(
    client: &kube::Client,
    reference: &crds::rollout::TemplateRef,
    namespace: &str,
) -> Read<crds::analysis::AnalysisTemplateSpec> {
    if reference.cluster {
        let api: kube::Api<crds::ClusterAnalysisTemplate> = kube::Api::all(client.clone());
        let what = || format!("ClusterAnalysisTemplate {}", reference.name);
        read::get(&api, &reference.name, what).await.map(|t| t.spec.template)
    } else {
        let api: kube::Api<crds::AnalysisTemplate> = kube::Api::namespaced(client.clone(), namespace);
        let what = || format!("AnalysisTemplate {namespace}/{}", reference.name);
        read::get(&api, &reference.name, what).await.map(|t| t.spec)
    }
}

/// The router objects the Rollout drives, read from the API server (routers are not watched: a
/// traffic-routed Rollout reads its few routes on each reconcile, and a cluster without the
/// router's CRDs costs nothing). A route that is missing (404) is absent; one that cannot be
/// read is added to `unreadable`.
async fn routes(
    client: &kube::Client,
    rollout: &Rollout,
    unreadable: &mut Vec<Unreadable>,
) -> BTreeMap<crate::rollout::traffic::RouteTarget, serde_json::Value> {
    let mut found = BTreeMap::new();
    let targets = crate::rollout::traffic::targets(rollout);
    // Each target, and the object it is built from (NGINX's stable Ingress).
    let sources: Vec<_> = targets.iter().filter_map(|t| t.source_target()).collect();
    for target in targets.into_iter().chain(sources) {
        let resource = target.api_resource();
        let api: Api<kube::api::DynamicObject> = Api::namespaced_with(client.clone(), &target.namespace, &resource);
        let what = || format!("{} {}/{}", resource.kind, target.namespace, target.name);
        let read = read::get(&api, &target.name, what)
            .await
            .map(|object| serde_json::to_value(&object));
        match read {
            Read::Found(Ok(value)) => {
                found.insert(target, value);
            }
            Read::Found(Err(e)) => unreadable.push(Unreadable {
                what: format!("{} {}/{}", resource.kind, target.namespace, target.name),
                reason: e.to_string(),
            }),
            Read::Absent => {}
            Read::Unknown(why) => unreadable.push(why),
        }
    }
    found
}

/// Builds the snapshot of `rollout` at `now`.
///
/// # Errors
/// A stored Rollout without namespace or UID; the pod list (only while a restart is pending).
pub async fn snapshot(
    client: &kube::Client,
    stores: &Stores,
    rollout: &Arc<Rollout>,
    now: Timestamp,
) -> Result<Snapshot> {
    let namespace = rollout
        .namespace()
        .ok_or_else(|| missing(rollout, "metadata.namespace"))?;
    let uid = rollout.uid().ok_or_else(|| missing(rollout, "metadata.uid"))?;
    let replicasets = replicasets(stores, rollout, &namespace, &uid);
    let services = rollout
        .service_names()
        .into_iter()
        .filter_map(|name| {
            let found = stores.services.get(&ObjectRef::new(&name).within(&namespace))?;
            Some((name, (*found).clone()))
        })
        .collect();
    let mut templates = BTreeMap::new();
    let mut unreadable = Vec::new();
    for reference in rollout.template_refs() {
        let spec = if reference.cluster {
            let key = ObjectRef::new(&reference.name);
            stores.cluster_templates.get(&key).map(|t| t.spec.template.clone())
        } else {
            let key = ObjectRef::new(&reference.name).within(&namespace);
            stores.templates.get(&key).map(|t| t.spec.clone())
        };
        // A template applied together with the Rollout (one `kubectl apply`, one Argo CD sync) may
        // not have reached the watch cache yet: ask the API server before calling the spec invalid.
        let spec = match spec {
            Some(spec) => Read::Found(spec),
            None => template_from_api(client, &reference, &namespace).await,
        };
        match spec {
            Read::Found(spec) => {
                templates.insert(reference, spec);
            }
            Read::Absent => {}
            Read::Unknown(why) => unreadable.push(why),
        }
    }
    let pods = pods_to_restart(client, rollout, &namespace, &replicasets).await?;
    let routes = routes(client, rollout, &mut unreadable).await;
    Ok(Snapshot {
        rollout: (**rollout).clone(),
        runs: runs(stores, &namespace, &uid),
        namespace,
        replicasets,
        services,
        templates,
        pods,
        routes,
        now,
        unreadable,
        // The reconcile's own memory, not the cluster's: it fills this in.
        counts_held_since: None,
    })
}
