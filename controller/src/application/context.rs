//! What the Application reconciler gets: the shared context, its settings, the watch caches of
//! AppProjects and repository Secrets, the repository cache, the render and comparison caches,
//! and every destination cluster's client and live-state watches.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crds::gitops::{AppProject, ResourceIgnoreDifferences};
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Secret;
use kube::runtime::reflector::Store;
use parking_lot::Mutex;
use repo::RepoCache;

use super::clusters::Clusters;
use super::compare::ComparisonCache;
use super::render::RenderCache;
use crate::Context;

/// How the Application reconciler runs.
#[derive(Clone, Debug)]
pub struct AppSettings {
    /// The namespace holding Applications, AppProjects and repository Secrets (Argo CD's `argocd`).
    pub namespace: String,
    /// Where the repository cache lives (`None`: a folder under the system temp dir).
    pub repo_cache: Option<PathBuf>,
    /// How often each repository is checked for new commits (`ls-remote`), before jitter.
    pub poll_interval: Duration,
    /// How long Kustomize or Helm may run.
    pub render_timeout: Duration,
    /// `ignoreDifferences` applied to every Application (the controller-wide setting).
    pub ignore_differences: Vec<ResourceIgnoreDifferences>,
    /// Secret for GitHub and Gitea webhooks (`X-Hub-Signature-256`).
    pub webhook_secret: Option<String>,
    /// Repository URL prefixes fetched from elsewhere (prefix, replacement).
    pub url_rewrites: Vec<(String, String)>,
    /// The `helm` to run for Helm sources (`None`: the first on `PATH`).
    pub helm_binary: Option<String>,
    /// Auto-revert for Applications without the `sluice.dev/auto-revert` annotation.
    pub auto_revert: bool,
    /// Author and committer of revert commits (name, email).
    pub git_author: (String, String),
    /// Reverts per Application per hour before a person is asked.
    pub max_reverts_per_hour: u32,
    /// One revert commit for all the culprits instead of one each.
    pub revert_squash: bool,
    /// This replica's shard of the Applications (`None`: it manages every Application).
    pub shard: Option<gitops::shard::Shard>,
}

impl Default for AppSettings {
    fn default() -> Self {
        Self {
            namespace: "argocd".into(),
            repo_cache: None,
            poll_interval: Duration::from_secs(15),
            render_timeout: Duration::from_secs(90),
            ignore_differences: Vec::new(),
            webhook_secret: None,
            url_rewrites: Vec::new(),
            helm_binary: None,
            auto_revert: false,
            git_author: ("Sluice".into(), "sluice@localhost".into()),
            max_reverts_per_hour: 3,
            revert_squash: false,
            shard: None,
        }
    }
}

/// Self-heal attempts of one Application at one revision, kept in memory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SelfHeal {
    /// The revision healed.
    pub revision: String,
    /// Attempts so far.
    pub attempts: u32,
    /// When the last one started.
    pub last: Option<Timestamp>,
}

/// The Application reconciler's context.
pub struct AppContext {
    /// Client, recorder, metrics, clock.
    pub base: Context,
    /// Settings.
    pub settings: AppSettings,
    /// AppProjects in the Application namespace.
    pub projects: Store<AppProject>,
    /// Repository Secrets in the Application namespace.
    pub secrets: Store<Secret>,
    /// `argocd-ssh-known-hosts-cm` (key `ssh_known_hosts`): SSH host keys, as Argo CD reads them.
    pub known_hosts: Store<k8s_openapi::api::core::v1::ConfigMap>,
    /// Bare repositories.
    pub repos: Arc<RepoCache>,
    /// Rendered manifests by (repository, commit, path, options).
    pub renders: RenderCache,
    /// Comparisons by (resource, desired hash, live resourceVersion).
    pub comparisons: ComparisonCache,
    /// Every cluster's client and watches of the managed kinds.
    pub clusters: Clusters,
    /// Self-heal attempts by Application uid.
    pub self_heal: Mutex<HashMap<String, SelfHeal>>,
}

impl AppContext {
    /// Whether this replica manages `app` (its shard's, by its destination cluster).
    #[must_use]
    pub fn owns(&self, app: &crds::gitops::StoredApplication) -> bool {
        let Some(shard) = &self.settings.shard else { return true };
        let destination = &app.spec.destination;
        let server = self.clusters.server_for(
            &self.secrets.state(),
            destination.server.as_deref().unwrap_or_default(),
            destination.name.as_deref().unwrap_or_default(),
        );
        let namespace = app.metadata.namespace.as_deref().unwrap_or_default();
        shard.owns(&server, namespace, app.metadata.name.as_deref().unwrap_or_default())
    }

    /// Whether this replica runs the ApplicationSet reconciler: shard 0's, or the only one.
    #[must_use]
    pub fn generates(&self) -> bool {
        self.settings.shard.is_none_or(|s| s.index == 0)
    }
}

impl std::fmt::Debug for AppContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppContext")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}
