//! What the ApplicationSet reconciler gets: the GitOps runtime (client, clock, repository cache
//! and credentials, AppProjects), the cluster Secrets, and the Applications indexed by their
//! controlling ApplicationSet.

use std::sync::Arc;

use crds::gitops::StoredApplication;
use k8s_openapi::api::core::v1::Secret;
use kube::runtime::reflector::Store;

use crate::owner_index::OwnerIndex;
use crate::runtime::GitOps;

/// The ApplicationSet reconciler's context.
pub struct AppSetContext {
    /// The GitOps runtime, shared with the Application reconciler.
    pub runtime: Arc<GitOps>,
    /// AppProjects in the namespace (its own watch: a set is woken when one changes, and reads
    /// the store that watch fills).
    pub projects: Store<crds::gitops::AppProject>,
    /// Cluster Secrets (`argocd.argoproj.io/secret-type: cluster`) in the namespace.
    pub clusters: Store<Secret>,
    /// Applications in the namespace, by controlling owner.
    pub applications: OwnerIndex<StoredApplication>,
}

impl std::fmt::Debug for AppSetContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppSetContext").finish_non_exhaustive()
    }
}
