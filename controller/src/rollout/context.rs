//! What the Rollout reconciler gets: the shared context and the watch caches it reads.

use crds::AnalysisRun;
use crds::analysis::{AnalysisTemplate, ClusterAnalysisTemplate};
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Service;
use kube::runtime::reflector::Store;

use crate::Context;
use crate::owner_index::OwnerIndex;

/// The watch caches the Rollout reconciler reads.
#[derive(Clone)]
pub struct Stores {
    /// ReplicaSets, by controlling owner.
    pub replicasets: OwnerIndex<ReplicaSet>,
    /// AnalysisRuns, by controlling owner.
    pub runs: OwnerIndex<AnalysisRun>,
    /// Services.
    pub services: Store<Service>,
    /// AnalysisTemplates.
    pub templates: Store<AnalysisTemplate>,
    /// ClusterAnalysisTemplates.
    pub cluster_templates: Store<ClusterAnalysisTemplate>,
    /// Set once every cache above has its first full list (see [`Stores::watch_readiness`]).
    pub ready: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Stores {
    /// Whether every cache has been filled once. A replica that just became leader must not
    /// decide on an empty ReplicaSet cache (it would not see the stable ReplicaSet and run a
    /// rollback's steps again).
    #[must_use]
    pub fn is_ready(&self) -> bool {
        self.ready.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Marks the caches ready once each has its first list. One task waits on each store in turn
    /// (a single waiter per store: kube-runtime's `DelayedInit` wakes only one waiter).
    pub fn watch_readiness(&self) -> tokio::task::JoinHandle<()> {
        let stores = self.clone();
        tokio::spawn(async move {
            let _ = stores.replicasets.store().wait_until_ready().await;
            let _ = stores.runs.store().wait_until_ready().await;
            let _ = stores.services.wait_until_ready().await;
            let _ = stores.templates.wait_until_ready().await;
            let _ = stores.cluster_templates.wait_until_ready().await;
            stores.ready.store(true, std::sync::atomic::Ordering::Release);
        })
    }
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
    /// Rollouts whose new replica counts are held back, and since when.
    pub held: HeldCounts,
}

/// Rollouts (by `namespace/name`) whose status this controller holds back because only their
/// replica counts moved, with the time it first did (see `decide::coalesce`). In memory only: a
/// restarted controller writes the next status at once. An entry lives until the Rollout's next
/// status write; one of a Rollout deleted while held stays (a few bytes) until a restart.
#[derive(Clone, Debug, Default)]
pub struct HeldCounts(std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, jiff::Timestamp>>>);

impl HeldCounts {
    fn with<T>(&self, f: impl FnOnce(&mut std::collections::HashMap<String, jiff::Timestamp>) -> T) -> T {
        let mut map = match self.0.lock() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut map)
    }

    /// Since when the status of `key` has been held back.
    #[must_use]
    pub fn since(&self, key: &str) -> Option<jiff::Timestamp> {
        self.with(|m| m.get(key).copied())
    }

    /// Records that the status of `key` is held back at `now` (keeping an earlier time).
    pub fn hold(&self, key: &str, now: jiff::Timestamp) {
        self.with(|m| {
            m.entry(key.to_owned()).or_insert(now);
        });
    }

    /// Forgets `key` (its status was written).
    pub fn release(&self, key: &str) {
        self.with(|m| m.remove(key));
    }
}
