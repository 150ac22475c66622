//! The Application reconciler: makes the cluster follow Git, as Argo CD's application controller
//! does for the Applications and AppProjects its users already have.
//!
//! Reconcile ([`reconcile`]) = observe ([`observe`]: the project; the source resolved and rendered
//! ([`crate::runtime::render`]); each desired resource compared by a server-side apply dry run ([`compare`])
//! against the live state of only the kinds and namespaces it uses ([`crate::runtime::live`])) → decide
//! ([`decide`], pure) → execute ([`execute`], idempotent writes) → write the status
//! ([`status`]) only when it changed. Repositories, credentials, clusters and live state are the
//! GitOps runtime's ([`crate::runtime`]); this file wires the watches.

pub mod compare;
pub mod context;
pub mod decide;
pub mod execute;
pub mod history;
pub mod observe;
pub mod plan;
pub mod reconcile;
pub mod snapshot;
pub mod status;

use std::sync::Arc;

use crds::gitops::{AppProject, StoredApplication};
use futures::StreamExt as _;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use kube::{Api, ResourceExt as _};

pub use context::AppContext;
pub use decide::decide;

use crate::runtime::{GitOps, Streams, poll, webhook};
use crate::shutdown::Shutdown;
use crate::watches::log_errors;

/// Runs the Application reconciler over the GitOps runtime until `shutdown`, woken by the
/// runtime's `streams`, with the runtime's poller and the webhook's `pushes` waking the
/// Applications of a changed repository.
pub async fn run(
    runtime: Arc<GitOps>,
    streams: Streams,
    pushes: tokio::sync::mpsc::Receiver<gitops::webhook::Push>,
    shutdown: Shutdown,
) {
    let client = runtime.base.client.clone();
    let namespace = runtime.settings.namespace.clone();
    ensure_default_project(&client, &namespace).await;
    let controller = crate::watches::controller(
        Api::<StoredApplication>::namespaced(client, &namespace),
        watcher::Config::default(),
        crate::watches::APPLICATION_RECONCILES_IN_FLIGHT,
    );
    let apps = controller.store();
    let context = Arc::new(AppContext {
        base: runtime.base.clone(),
        runtime: runtime.clone(),
        comparisons: compare::ComparisonCache::default(),
        self_heal: parking_lot::Mutex::default(),
    });
    let Streams {
        projects,
        secrets,
        known_hosts,
        woken,
        wake,
    } = streams;
    let poller = tokio::spawn(poll::run(runtime.clone(), apps.clone(), wake.clone()));
    let receiver = tokio::spawn(webhook::run(runtime, apps.clone(), pushes, wake));
    let (by_project, by_secret, by_hosts) = (apps.clone(), apps.clone(), apps);
    controller
        .watches_stream(projects, move |p: AppProject| in_project(&by_project, &p.name_any()))
        .watches_stream(secrets, move |_: Secret| every(&by_secret))
        .watches_stream(known_hosts, move |_: ConfigMap| every(&by_hosts))
        .reconcile_on(tokio_stream::wrappers::UnboundedReceiverStream::new(woken))
        .graceful_shutdown_on(shutdown.wait())
        .run(reconcile::reconcile, reconcile::error_policy, context)
        .for_each(|result| log_errors("application", result))
        .await;
    poller.abort();
    receiver.abort();
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
