//! What the Rollout reconciler gets: the shared context and the watch caches it reads.

use crds::AnalysisRun;
use crds::analysis::{AnalysisTemplate, ClusterAnalysisTemplate};
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Service;
use kube::runtime::reflector::Store;

use crate::Context;

/// The watch caches the Rollout reconciler reads.
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

/// The Rollout reconciler's context.
#[derive(Clone, Debug)]
pub struct RolloutContext {
    /// Client, recorder, metrics, clock.
    pub base: Context,
    /// Watch caches.
    pub stores: Stores,
}
