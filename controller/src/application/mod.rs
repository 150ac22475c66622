//! The Application reconciler: makes the cluster follow Git, as Argo CD's application controller
//! does for the Applications and AppProjects its users already have.
//!
//! Reconcile ([`reconcile`]) = observe ([`observe`]: the project; the source resolved and rendered
//! ([`render`]); each desired resource compared by a server-side apply dry run ([`compare`])
//! against the live state of only the kinds and namespaces it uses ([`live`])) → decide
//! ([`decide`], pure) → execute ([`execute`], idempotent writes) → write the status
//! ([`status`]) only when it changed. [`poll`] watches the repositories; this file wires the
//! watches.

pub mod cluster_config;
pub mod clusters;
pub mod compare;
pub mod context;
pub mod decide;
pub mod execute;
pub mod history;
pub mod live;
pub mod observe;
pub mod plan;
pub mod poll;
pub mod reconcile;
pub mod render;
pub mod snapshot;
pub mod status;
pub mod webhook;

use std::sync::Arc;

use crds::gitops::{AppProject, StoredApplication};
use futures::StreamExt as _;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use kube::{Api, ResourceExt as _};
use repo::RepoCache;
use repo::credentials::SECRET_TYPE_LABEL;

pub use context::{AppContext, AppSettings};
pub use decide::decide;

use crate::Context;
use crate::manager::Shutdown;
use crate::watches::{log_errors, reflect};

/// Runs the Application reconciler until `shutdown`, taking webhook pushes from `pushes`.
pub async fn run(
    ctx: Context,
    settings: AppSettings,
    pushes: tokio::sync::mpsc::Receiver<gitops::webhook::Push>,
    shutdown: Shutdown,
) {
    let client = ctx.client.clone();
    let namespace = settings.namespace.clone();
    let root = settings
        .repo_cache
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join(format!("sluice-repos-{}", std::process::id())));
    let repos = match RepoCache::new(&root) {
        Ok(repos) => Arc::new(repos.with_rewrites(settings.url_rewrites.clone())),
        Err(error) => {
            tracing::error!(%error, "the Application reconciler cannot start");
            return;
        }
    };
    ensure_default_project(&client, &namespace).await;
    let (projects, project_stream) = reflect(
        Api::<AppProject>::namespaced(client.clone(), &namespace),
        watcher::Config::default(),
    );
    let secret_config = watcher::Config::default().labels(SECRET_TYPE_LABEL);
    let (secrets, secret_stream) = reflect(Api::<Secret>::namespaced(client.clone(), &namespace), secret_config);
    let hosts_config = watcher::Config::default().fields("metadata.name=argocd-ssh-known-hosts-cm");
    let (known_hosts, hosts_stream) = reflect(Api::<ConfigMap>::namespaced(client.clone(), &namespace), hosts_config);
    let (wake, woken) = tokio::sync::mpsc::unbounded_channel();
    let live = Arc::new(live::LiveState::new(client.clone(), namespace.clone(), wake.clone()));
    let clusters = clusters::Clusters::new(live, namespace.clone(), wake.clone());
    let controller = crate::watches::controller(
        Api::<StoredApplication>::namespaced(client, &namespace),
        watcher::Config::default(),
        crate::watches::APPLICATION_RECONCILES_IN_FLIGHT,
    );
    let apps = controller.store();
    let context = Arc::new(AppContext {
        base: ctx,
        settings,
        projects,
        secrets,
        known_hosts,
        repos,
        renders: render::RenderCache::default(),
        comparisons: compare::ComparisonCache::default(),
        clusters,
        self_heal: parking_lot::Mutex::default(),
    });
    let shutdown_sets = shutdown.clone();
    let poller = tokio::spawn(poll::run(context.clone(), apps.clone(), wake.clone()));
    let receiver = tokio::spawn(webhook::run(context.clone(), apps.clone(), pushes, wake));
    let generator = context.generates().then(|| context.clone());
    let sets = tokio::spawn(async move {
        if let Some(context) = generator {
            crate::applicationset::run(context, shutdown_sets).await;
        }
    });
    let (by_project, by_secret, by_hosts) = (apps.clone(), apps.clone(), apps);
    controller
        .watches_stream(project_stream, move |p: AppProject| {
            in_project(&by_project, &p.name_any())
        })
        .watches_stream(secret_stream, move |_: Secret| every(&by_secret))
        .watches_stream(hosts_stream, move |_: ConfigMap| every(&by_hosts))
        .reconcile_on(tokio_stream::wrappers::UnboundedReceiverStream::new(woken))
        .graceful_shutdown_on(shutdown.wait())
        .run(reconcile::reconcile, reconcile::error_policy, context)
        .for_each(|result| log_errors("application", result))
        .await;
    poller.abort();
    receiver.abort();
    let _ = sets.await;
}

fn in_project(store: &Store<StoredApplication>, project: &str) -> Vec<ObjectRef<StoredApplication>> {
    store
        .state()
        .iter()
        .filter(|a| a.spec.project.as_deref().filter(|p| !p.is_empty()).unwrap_or("default") == project)
        .map(|a| ObjectRef::from_obj(&**a))
        .collect()
}

fn every(store: &Store<StoredApplication>) -> Vec<ObjectRef<StoredApplication>> {
    store.state().iter().map(|a| ObjectRef::from_obj(&**a)).collect()
}

/// Creates the `default` AppProject (everything allowed) when the namespace has none, as Argo CD.
async fn ensure_default_project(client: &kube::Client, namespace: &str) {
    let api: Api<AppProject> = Api::namespaced(client.clone(), namespace);
    match crate::read::get(&api, "default", || format!("AppProject {namespace}/default")).await {
        crate::read::Read::Found(_) => return,
        crate::read::Read::Absent => {}
        // Create it anyway: an existing project answers 409, which is as good as reading it.
        crate::read::Read::Unknown(why) => tracing::warn!(%why, "creating the default AppProject blind"),
    }
    let project = AppProject::new("default", gitops::project::default_project());
    match api.create(&crate::params::create(), &project).await {
        Ok(_) => tracing::info!(namespace, "created the default AppProject"),
        Err(kube::Error::Api(s)) if s.code == 409 => {}
        Err(error) => tracing::debug!(%error, namespace, "cannot create the default AppProject"),
    }
}
