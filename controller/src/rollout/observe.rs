//! Reading what a decision needs from the watch caches (and, while a restart runs, the pods).

use std::collections::BTreeMap;
use std::sync::Arc;

use crds::analysis::{AnalysisTemplate, ClusterAnalysisTemplate};
use crds::meta::selector_matches;
use crds::{AnalysisRun, Rollout};
use jiff::Timestamp;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{Pod, Service};
use kube::api::ListParams;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Api, ResourceExt as _};

use super::snapshot::{Snapshot, TemplateKey};
use crate::{Error, Result};

/// The watch caches the Rollout controller reads.
#[derive(Clone)]
pub struct Stores {
    /// ReplicaSets.
    pub replicasets: Store<ReplicaSet>,
    /// AnalysisRuns.
    pub runs: Store<AnalysisRun>,
    /// Services.
    pub services: Store<Service>,
    /// AnalysisTemplates.
    pub templates: Store<AnalysisTemplate>,
    /// ClusterAnalysisTemplates.
    pub cluster_templates: Store<ClusterAnalysisTemplate>,
}

impl std::fmt::Debug for Stores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stores").finish_non_exhaustive()
    }
}

fn controlled_by(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta, uid: &str) -> Option<bool> {
    let owner = meta
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.controller == Some(true))?;
    Some(owner.uid == uid)
}

/// The template references of every analysis the Rollout may start.
fn template_refs(rollout: &Rollout) -> Vec<TemplateKey> {
    let strategy = rollout.spec.strategy.clone().unwrap_or_default();
    let mut analyses = Vec::new();
    if let Some(c) = strategy.canary {
        analyses.extend(c.analysis.map(|a| a.analysis));
        analyses.extend(c.steps.into_iter().filter_map(|s| s.analysis));
    }
    if let Some(bg) = strategy.blue_green {
        analyses.extend(bg.pre_promotion_analysis);
        analyses.extend(bg.post_promotion_analysis);
    }
    analyses
        .iter()
        .flat_map(|a| a.templates.iter())
        .map(|t| (t.cluster_scope.unwrap_or(false), t.template_name.clone()))
        .collect()
}

/// Builds the snapshot of `rollout` at `now`.
///
/// # Errors
/// Only the pod list (while a restart is pending) reads the API; its failure is returned.
pub async fn snapshot(
    client: &kube::Client,
    stores: &Stores,
    rollout: &Arc<Rollout>,
    now: Timestamp,
) -> Result<Snapshot> {
    let namespace = rollout
        .namespace()
        .ok_or(Error::MissingObjectKey(".metadata.namespace"))?;
    let uid = rollout.uid().ok_or(Error::MissingObjectKey(".metadata.uid"))?;
    let selector = rollout.spec.selector.clone().unwrap_or_default();
    let replicasets: Vec<ReplicaSet> = stores
        .replicasets
        .state()
        .iter()
        .filter(|rs| rs.metadata.namespace.as_deref() == Some(namespace.as_str()))
        .filter(|rs| match controlled_by(&rs.metadata, &uid) {
            Some(ours) => ours,
            None => {
                rs.metadata.deletion_timestamp.is_none()
                    && !crds::meta::selector_is_empty(&selector)
                    && selector_matches(&selector, &rs.labels().clone()).unwrap_or(false)
            }
        })
        .map(|rs| (**rs).clone())
        .collect();
    let runs = stores
        .runs
        .state()
        .iter()
        .filter(|r| r.metadata.namespace.as_deref() == Some(namespace.as_str()))
        .filter(|r| controlled_by(&r.metadata, &uid) == Some(true))
        .map(|r| (**r).clone())
        .collect();
    let services = super::decide::service_names(rollout)
        .into_iter()
        .filter_map(|name| {
            let found = stores.services.get(&ObjectRef::new(&name).within(&namespace))?;
            Some((name, (*found).clone()))
        })
        .collect();
    let mut templates = BTreeMap::new();
    for key in template_refs(rollout) {
        let spec = if key.0 {
            stores
                .cluster_templates
                .get(&ObjectRef::new(&key.1))
                .map(|t| t.spec.template.clone())
        } else {
            stores
                .templates
                .get(&ObjectRef::new(&key.1).within(&namespace))
                .map(|t| t.spec.clone())
        };
        if let Some(spec) = spec {
            templates.insert(key, spec);
        }
    }
    let restart_pending = rollout
        .spec
        .restart_at
        .as_ref()
        .is_some_and(|at| rollout.status.as_ref().and_then(|s| s.restarted_at.as_ref()) != Some(at));
    let pods = if restart_pending {
        let api: Api<Pod> = Api::namespaced(client.clone(), &namespace);
        let labels = super::decide::selector_string(&selector);
        api.list(&ListParams::default().labels(&labels))
            .await
            .map_err(|e| Error::kube(format!("listing pods of rollout {namespace}/{}", rollout.name_any()), e))?
            .items
            .into_iter()
            .filter(|p| {
                p.metadata
                    .owner_references
                    .iter()
                    .flatten()
                    .any(|o| replicasets.iter().any(|rs| rs.metadata.uid.as_ref() == Some(&o.uid)))
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(Snapshot {
        rollout: (**rollout).clone(),
        replicasets,
        runs,
        services,
        templates,
        pods,
        now,
    })
}
