//! The GitOps runtime: what the Application and ApplicationSet reconcilers share and neither owns.
//! It holds the repositories (the bare-repository cache, credentials from repository Secrets and
//! SSH known hosts, rendered manifests), the destination clusters with their live state, the
//! AppProjects, and the two ways new commits are noticed ([`poll`] and [`webhook`]).
//!
//! [`GitOps::start`] builds it or fails with the reason (the manager stops the process then,
//! rather than serving `/readyz` with no Application reconciler behind it); the reconcilers are
//! handed an `Arc<GitOps>` and never build any of it themselves.

pub mod cluster_config;
pub mod clusters;
pub mod live;
pub mod poll;
pub mod render;
pub mod settings;
pub mod webhook;

use std::sync::Arc;

use crds::gitops::{AppProject, StoredApplication};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::Api;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use repo::RepoCache;
use repo::credentials::SECRET_TYPE_LABEL;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

pub use settings::AppSettings;

use crate::Context;
use crate::watches::reflect;

/// Why the GitOps runtime could not start.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The repository cache folder could not be made.
    #[error("cannot open the repository cache {path}")]
    RepoCache {
        /// The folder.
        path: String,
        /// The cause.
        #[source]
        source: repo::GitError,
    },
}

/// The shared GitOps state (see the module documentation).
pub struct GitOps {
    /// Client, recorder, metrics, clock.
    pub base: Context,
    /// Settings.
    pub settings: AppSettings,
    /// AppProjects in the Application namespace.
    pub projects: Store<AppProject>,
    /// Repository Secrets in the Application namespace.
    pub secrets: Store<Secret>,
    /// `argocd-ssh-known-hosts-cm` (key `ssh_known_hosts`): SSH host keys, as Argo CD reads them.
    pub known_hosts: Store<ConfigMap>,
    /// Bare repositories.
    pub repos: Arc<RepoCache>,
    /// Rendered manifests by (repository, commit, path, options).
    pub renders: render::RenderCache,
    /// Every cluster's client and watches of the managed kinds.
    pub clusters: clusters::Clusters,
}

/// The watch streams of the runtime's caches, for the reconciler to be woken by them.
pub struct Streams {
    /// AppProject changes.
    pub projects: futures::stream::BoxStream<'static, Result<AppProject, watcher::Error>>,
    /// Repository Secret changes.
    pub secrets: futures::stream::BoxStream<'static, Result<Secret, watcher::Error>>,
    /// Known-hosts ConfigMap changes.
    pub known_hosts: futures::stream::BoxStream<'static, Result<ConfigMap, watcher::Error>>,
    /// Applications to reconcile again because their live state changed.
    pub woken: UnboundedReceiver<ObjectRef<StoredApplication>>,
    /// Where the poller, the webhook and the live state send such wake-ups.
    pub wake: UnboundedSender<ObjectRef<StoredApplication>>,
}

impl GitOps {
    /// Builds the runtime: opens the repository cache and starts the watches of AppProjects,
    /// repository Secrets and known hosts in the Application namespace.
    ///
    /// # Errors
    /// The repository cache folder cannot be made.
    pub fn start(base: Context, settings: AppSettings) -> Result<(Self, Streams), RuntimeError> {
        let client = base.client.clone();
        let namespace = settings.namespace.clone();
        let root = settings
            .repo_cache
            .clone()
            .unwrap_or_else(|| std::env::temp_dir().join(format!("sluice-repos-{}", std::process::id())));
        let repos = RepoCache::new(&root).map_err(|source| RuntimeError::RepoCache {
            path: root.display().to_string(),
            source,
        })?;
        let repos = Arc::new(repos.with_rewrites(settings.url_rewrites.clone()));
        let (projects, project_stream) = reflect(
            Api::<AppProject>::namespaced(client.clone(), &namespace),
            watcher::Config::default(),
        );
        let secret_config = watcher::Config::default().labels(SECRET_TYPE_LABEL);
        let (secrets, secret_stream) = reflect(Api::<Secret>::namespaced(client.clone(), &namespace), secret_config);
        let hosts_config =
            watcher::Config::default().fields(&format!("metadata.name={}", repo::credentials::KNOWN_HOSTS_CONFIGMAP));
        let (known_hosts, hosts_stream) =
            reflect(Api::<ConfigMap>::namespaced(client.clone(), &namespace), hosts_config);
        let (wake, woken) = tokio::sync::mpsc::unbounded_channel();
        let live = Arc::new(live::LiveState::new(client, namespace.clone(), wake.clone()));
        let clusters = clusters::Clusters::new(live, namespace, wake.clone());
        let gitops = Self {
            base,
            settings,
            projects,
            secrets,
            known_hosts,
            repos,
            renders: render::RenderCache::default(),
            clusters,
        };
        let streams = Streams {
            projects: Box::pin(project_stream),
            secrets: Box::pin(secret_stream),
            known_hosts: Box::pin(hosts_stream),
            woken,
            wake,
        };
        Ok((gitops, streams))
    }

    /// Whether this replica manages `app` (its shard's, by its destination cluster).
    #[must_use]
    pub fn owns(&self, app: &StoredApplication) -> bool {
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

impl std::fmt::Debug for GitOps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitOps")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}
