//! Live state: watches of only the kinds an Application's manifests or tracked resources use, in
//! only the namespaces they use (Argo CD caches every kind of the cluster, its users' memory
//! complaint). A watch starts the first time a reconcile asks for a (kind, namespace) and feeds
//! two things: a cache the reconciler reads, and wake-ups of the Application a changed object is
//! tracked by (its `argocd.argoproj.io/tracking-id`), which is what drives self-heal and the
//! wait between waves. Discovery answers are cached; a kind not served yet (a CRD in an earlier
//! wave) is asked again on the next reconcile.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crds::gitops::StoredApplication;
use futures::StreamExt as _;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
use kube::core::discovery::Scope;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt as _, watcher};
use kube::{Api, Client};
use parking_lot::Mutex;
use tokio::sync::mpsc::UnboundedSender;

/// A served kind.
#[derive(Clone, Debug)]
pub struct Kind {
    /// Its API resource (group, version, plural).
    pub resource: ApiResource,
    /// Whether its objects live in namespaces.
    pub namespaced: bool,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct WatchKey {
    api_version: String,
    kind: String,
    namespace: Option<String>,
}

/// One watch: its cache and whether its first list is in.
#[derive(Clone)]
struct Watch {
    store: Store<DynamicObject>,
    // Every waiter goes through this cell: `Store::wait_until_ready` wakes only the last of
    // several concurrent waiters (kube-runtime's DelayedInit keeps one waker), so the others
    // would sleep until their timeout.
    listed: Arc<tokio::sync::OnceCell<()>>,
}

/// The watches and the discovery cache.
pub struct LiveState {
    client: Client,
    app_namespace: String,
    kinds: Mutex<HashMap<(String, String), Kind>>,
    watches: Mutex<HashMap<WatchKey, Watch>>,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    wake: UnboundedSender<ObjectRef<StoredApplication>>,
}

impl Drop for LiveState {
    fn drop(&mut self) {
        for task in self.tasks.lock().drain(..) {
            task.abort();
        }
    }
}

fn split_api_version(api_version: &str) -> (&str, &str) {
    api_version.rsplit_once('/').unwrap_or(("", api_version))
}

impl LiveState {
    /// Live state through `client`; changes wake Applications in `app_namespace` through `wake`.
    #[must_use]
    pub fn new(client: Client, app_namespace: String, wake: UnboundedSender<ObjectRef<StoredApplication>>) -> Self {
        Self {
            client,
            app_namespace,
            kinds: Mutex::default(),
            watches: Mutex::default(),
            tasks: Mutex::default(),
            wake,
        }
    }

    /// The client of this cluster.
    #[must_use]
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The served kind `apiVersion`/`kind`, or `None` when the API server does not serve it.
    pub async fn kind(&self, api_version: &str, kind: &str) -> Option<Kind> {
        let key = (api_version.to_owned(), kind.to_owned());
        if let Some(known) = self.kinds.lock().get(&key) {
            return Some(known.clone());
        }
        let (group, version) = split_api_version(api_version);
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let (resource, caps) = kube::discovery::pinned_kind(&self.client, &gvk).await.ok()?;
        let found = Kind {
            resource,
            namespaced: caps.scope == Scope::Namespaced,
        };
        self.kinds.lock().insert(key, found.clone());
        Some(found)
    }

    /// An API for `kind` in `namespace` (`None` for cluster-scoped kinds).
    #[must_use]
    pub fn api(&self, kind: &Kind, namespace: Option<&str>) -> Api<DynamicObject> {
        match namespace.filter(|_| kind.namespaced) {
            Some(ns) => Api::namespaced_with(self.client.clone(), ns, &kind.resource),
            None => Api::all_with(self.client.clone(), &kind.resource),
        }
    }

    /// The cache of `kind` in `namespace`, started (and listed once) if new.
    pub async fn store(&self, kind: &Kind, namespace: Option<&str>) -> Store<DynamicObject> {
        let key = WatchKey {
            api_version: kind.resource.api_version.clone(),
            kind: kind.resource.kind.clone(),
            namespace: namespace.filter(|_| kind.namespaced).map(str::to_owned),
        };
        let existing = self.watches.lock().get(&key).cloned();
        let watch = match existing {
            Some(watch) => watch,
            None => self.start(kind, key),
        };
        // The first list must be in before the reconciler believes what the cache says is absent.
        let store = watch.store.clone();
        watch
            .listed
            .get_or_init(|| async move {
                if tokio::time::timeout(Duration::from_secs(10), store.wait_until_ready())
                    .await
                    .is_err()
                {
                    tracing::warn!(kind = %kind.resource.kind, "the watch did not list within 10 s");
                }
            })
            .await;
        watch.store
    }

    fn start(&self, kind: &Kind, key: WatchKey) -> Watch {
        let mut watches = self.watches.lock();
        if let Some(watch) = watches.get(&key) {
            return watch.clone();
        }
        let api = self.api(kind, key.namespace.as_deref());
        let writer = reflector::store::Writer::new(kind.resource.clone());
        let store = writer.as_reader();
        let wake = self.wake.clone();
        let app_namespace = self.app_namespace.clone();
        let stream =
            reflector::reflector(writer, watcher(api, watcher::Config::default()).default_backoff()).touched_objects();
        let task = tokio::spawn(async move {
            let mut stream = std::pin::pin!(stream);
            while let Some(event) = stream.next().await {
                let Ok(object) = event else { continue };
                if let Some(app) = tracked_app(&object) {
                    let _ = wake.send(ObjectRef::new(&app).within(&app_namespace));
                }
            }
        });
        self.tasks.lock().push(task);
        let watch = Watch {
            store,
            listed: Arc::default(),
        };
        watches.insert(key, watch.clone());
        watch
    }
}

fn tracked_app(object: &DynamicObject) -> Option<String> {
    let id = object
        .metadata
        .annotations
        .as_ref()?
        .get(gitops::tracking::TRACKING_ID)?;
    gitops::tracking::parse(id).map(|(app, _)| app)
}
