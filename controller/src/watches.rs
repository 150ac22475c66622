//! Watch caches the reconcilers share the shape of: a reflector store and the stream of the
//! objects it saw change, to feed a kube-runtime `Controller`.

use kube::Api;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};

/// A reflector-backed watch of `api`: its cache and its stream of changed objects.
pub fn reflect<K>(
    api: Api<K>,
    config: watcher::Config,
) -> (Store<K>, impl futures::Stream<Item = Result<K, watcher::Error>>)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
    K::DynamicType: Default + Eq + std::hash::Hash + Clone,
{
    let (store, writer) = reflector::store();
    let stream = reflector::reflector(writer, watcher(api, config).default_backoff()).touched_objects();
    (store, stream)
}

/// Logs a controller stream's errors (a failed reconcile is already counted by its error policy).
pub async fn log_errors<T, E: std::fmt::Display>(controller: &'static str, result: Result<T, E>) {
    if let Err(error) = result {
        tracing::debug!(%error, controller, "controller stream");
    }
}

/// [`reflect`], with the cache also indexed by controlling owner (for the children a reconcile
/// reads: ReplicaSets and AnalysisRuns of a Rollout).
pub fn reflect_indexed<K>(
    api: Api<K>,
    config: watcher::Config,
) -> (
    crate::owner_index::OwnerIndex<K>,
    impl futures::Stream<Item = Result<K, watcher::Error>>,
)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
    K::DynamicType: Default + Eq + std::hash::Hash + Clone,
{
    use futures::TryStreamExt as _;
    let (store, writer) = reflector::store();
    let index = crate::owner_index::OwnerIndex::new(store);
    let follower = index.clone();
    let stream = reflector::reflector(writer, watcher(api, config).default_backoff())
        .inspect_ok(move |event| follower.apply(event))
        .touched_objects();
    (index, stream)
}
