//! The ApplicationSet reconciler: stamps out Applications from generators and a template, as
//! Argo CD's ApplicationSet controller does for the ApplicationSets its users already have.
//!
//! Reconcile ([`reconcile`]) = observe ([`observe`]: clusters, Git revisions, the parameter
//! sets, the Applications of the namespace) → decide ([`decide`], pure) → execute ([`execute`]:
//! server-side apply or delete each Application) → write the status ([`status`]) when it changed.
//! It runs beside the Application reconciler and shares the GitOps runtime (repositories,
//! credentials, clusters) with it;
//! this file wires the watches.

pub mod context;
pub mod decide;
pub mod execute;
pub mod observe;
pub mod plan;
pub mod reconcile;
pub mod snapshot;
pub mod status;

use std::sync::Arc;

use crds::gitops::{AppProject, ApplicationSet, StoredApplication};
use futures::StreamExt as _;
use gitops::appset::clusters::SECRET_TYPE_LABEL;
use k8s_openapi::api::core::v1::Secret;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use kube::{Api, ResourceExt as _};

pub use context::AppSetContext;
pub use decide::decide;

use crate::runtime::GitOps;
use crate::shutdown::Shutdown;
use crate::watches::{log_errors, reflect, reflect_indexed};

/// Runs the ApplicationSet reconciler until `shutdown`, over the ApplicationSets in the
/// Application namespace.
pub async fn run(runtime: Arc<GitOps>, shutdown: Shutdown) {
    let client = runtime.base.client.clone();
    let namespace = runtime.settings.namespace.clone();
    let clusters_config = watcher::Config::default().labels(&format!("{SECRET_TYPE_LABEL}=cluster"));
    let (clusters, cluster_stream) = reflect(Api::<Secret>::namespaced(client.clone(), &namespace), clusters_config);
    let (applications, app_stream) = reflect_indexed(
        Api::<StoredApplication>::namespaced(client.clone(), &namespace),
        watcher::Config::default(),
    );
    let controller = crate::watches::controller(
        Api::<ApplicationSet>::namespaced(client, &namespace),
        watcher::Config::default(),
        crate::watches::APPLICATION_RECONCILES_IN_FLIGHT,
    );
    let sets = controller.store();
    // A set's rendered Applications are checked against the AppProjects (a project created after
    // the set, or changed, must be seen without waiting for the idle recheck): its own light watch,
    // since the runtime's project stream feeds the Application reconciler.
    let (projects, project_stream) = reflect(
        Api::<AppProject>::namespaced(runtime.base.client.clone(), &namespace),
        watcher::Config::default(),
    );
    let by_project = sets.clone();
    let context = Arc::new(AppSetContext {
        runtime,
        projects,
        clusters,
        applications,
    });
    controller
        .watches_stream(cluster_stream, move |_: Secret| every(&sets))
        .watches_stream(project_stream, move |_: AppProject| every(&by_project))
        .watches_stream(app_stream, |app: StoredApplication| owner(&app))
        .graceful_shutdown_on(shutdown.wait())
        .run(reconcile::reconcile, reconcile::error_policy, context)
        .for_each(|result| log_errors("applicationset", result))
        .await;
}

fn every(store: &Store<ApplicationSet>) -> Vec<ObjectRef<ApplicationSet>> {
    store.state().iter().map(|s| ObjectRef::from_obj(&**s)).collect()
}

/// The ApplicationSet controlling `app`, if any.
fn owner(app: &StoredApplication) -> Option<ObjectRef<ApplicationSet>> {
    let namespace = app.namespace()?;
    app.owner_references()
        .iter()
        .find(|o| o.controller == Some(true) && o.kind == "ApplicationSet")
        .map(|o| ObjectRef::new(&o.name).within(&namespace))
}
