//! Watching a namespace's Rollouts and what they own, through reflector caches, and telling when
//! anything changed: what `get rollout -w` and `sluice demo` redraw from (no polling).

use crds::{AnalysisRun, Rollout};
use futures::stream::{BoxStream, SelectAll};
use futures::{Stream, StreamExt};
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Pod;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};

use crate::family::Family;

/// A reflector cache of `api` and a stream that yields once per change applied to it.
pub fn reflect<K>(api: Api<K>) -> (Store<K>, impl Stream<Item = ()> + Send + 'static)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
    K::DynamicType: Default + Eq + std::hash::Hash + Clone,
{
    let (store, writer) = reflector::store();
    let stream = reflector::reflector(writer, watcher(api, watcher::Config::default()).default_backoff())
        .filter_map(|event| async move { event.ok().map(|_| ()) });
    (store, stream)
}

/// Watches of one namespace's Rollouts, ReplicaSets, pods and AnalysisRuns.
pub struct Watched {
    rollouts: Store<Rollout>,
    sets: Store<ReplicaSet>,
    pods: Store<Pod>,
    runs: Store<AnalysisRun>,
    events: SelectAll<BoxStream<'static, ()>>,
}

impl Watched {
    /// Starts the watches.
    #[must_use]
    pub fn start(client: &Client, namespace: &str) -> Self {
        let (rollouts, r) = reflect(Api::<Rollout>::namespaced(client.clone(), namespace));
        let (sets, s) = reflect(Api::<ReplicaSet>::namespaced(client.clone(), namespace));
        let (pods, p) = reflect(Api::<Pod>::namespaced(client.clone(), namespace));
        let (runs, a) = reflect(Api::<AnalysisRun>::namespaced(client.clone(), namespace));
        Self {
            rollouts,
            sets,
            pods,
            runs,
            events: futures::stream::select_all([r.boxed(), s.boxed(), p.boxed(), a.boxed()]),
        }
    }

    /// Waits for the next change; `false` when the watches ended.
    pub async fn changed(&mut self) -> bool {
        self.events.next().await.is_some()
    }

    /// Rollout `name` and what it owns, as cached now.
    #[must_use]
    pub fn family(&self, name: &str) -> Option<Family> {
        let rollout = self
            .rollouts
            .state()
            .into_iter()
            .find(|r| r.metadata.name.as_deref() == Some(name))?;
        let sets: Vec<ReplicaSet> = self.sets.state().iter().map(|x| (**x).clone()).collect();
        let pods: Vec<Pod> = self.pods.state().iter().map(|x| (**x).clone()).collect();
        let runs: Vec<AnalysisRun> = self.runs.state().iter().map(|x| (**x).clone()).collect();
        Some(Family::of((*rollout).clone(), &sets, &pods, &runs))
    }
}
