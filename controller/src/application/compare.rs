//! Comparing one desired resource with the cluster: a server-side apply dry run of the desired
//! object (field manager `sluice`) predicts what applying it would make of the live object, and
//! `gitops::diff` compares the prediction with the live object. The outcome is cached by
//! (resource, hash of the desired object, live resourceVersion), so comparing an unchanged
//! Application costs no API request; an apply seeds the cache with what it wrote.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use crds::gitops::ResourceIgnoreDifferences;
use gitops::diff::{self, Comparison};
use kube::api::{DynamicObject, Patch};
use parking_lot::Mutex;
use serde_json::Value;

use crate::runtime::live::{Kind, LiveState};

/// How one resource compares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Compared {
    /// Live is what Git declares.
    Synced,
    /// Live differs at these paths.
    OutOfSync(Vec<String>),
    /// There is no live object.
    Missing,
    /// The comparison could not be made (the dry run was refused, a rule is broken).
    Error(String),
}

impl Compared {
    /// `Synced` or `OutOfSync`, as `status.resources[].status` says.
    #[must_use]
    pub fn sync_status(&self) -> &'static str {
        if *self == Self::Synced { "Synced" } else { "OutOfSync" }
    }
}

/// Cached comparisons, and the generation each of our applies wrote.
#[derive(Default)]
pub struct ComparisonCache(
    Mutex<HashMap<String, (u64, String, Compared)>>,
    Mutex<HashMap<String, (String, i64)>>,
);

/// A stable hash of a desired object.
#[must_use]
pub fn hash(desired: &Value) -> u64 {
    let mut hasher = DefaultHasher::new();
    desired.to_string().hash(&mut hasher);
    hasher.finish()
}

fn key_of(object: &Value) -> String {
    gitops::tracking::ResourceKey::of(object).to_string()
}

fn uid(object: &Value) -> Option<&str> {
    object.pointer("/metadata/uid").and_then(Value::as_str)
}

fn generation(object: &Value) -> Option<i64> {
    object.pointer("/metadata/generation").and_then(Value::as_i64)
}

fn resource_version(object: &Value) -> String {
    object
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

impl ComparisonCache {
    /// Records that `written` (returned by an apply of `desired`) is what Git declares.
    pub fn seed(&self, desired: &Value, written: &Value) {
        self.0.lock().insert(
            key_of(desired),
            (hash(desired), resource_version(written), Compared::Synced),
        );
        if let (Some(uid), Some(generation)) = (uid(written), generation(written)) {
            self.1.lock().insert(key_of(desired), (uid.to_owned(), generation));
        }
    }

    /// The live object as health should judge it: when the watch cache still holds a version
    /// older than one of our applies wrote (same object, lower `metadata.generation`), its
    /// generation is raised to the applied one, so a controller's `observedGeneration` reads as
    /// behind (Progressing) instead of the old spec's health (a Rollout aborted before the revert
    /// was applied is not Degraded any more, only not yet updated).
    pub fn freshest(&self, desired: &Value, mut live: Value) -> Value {
        let key = key_of(desired);
        let mut applied = self.1.lock();
        if let Some((written_uid, written)) = applied.get(&key) {
            match (uid(&live), generation(&live)) {
                (Some(u), Some(g)) if u == written_uid && g < *written => {
                    live["metadata"]["generation"] = Value::from(*written);
                }
                _ => {
                    applied.remove(&key);
                }
            }
        }
        live
    }

    fn get(&self, desired: &Value, hash: u64, live: &Value) -> Option<Compared> {
        let map = self.0.lock();
        let (h, rv, compared) = map.get(&key_of(desired))?;
        (*h == hash && *rv == resource_version(live)).then(|| compared.clone())
    }

    fn put(&self, desired: &Value, hash: u64, live: &Value, compared: Compared) {
        self.0
            .lock()
            .insert(key_of(desired), (hash, resource_version(live), compared));
    }
}

/// Compares `desired` with `live` (`None`: missing).
pub async fn compare(
    live_state: &LiveState,
    cache: &ComparisonCache,
    kind: &Kind,
    desired: &Value,
    live: Option<&Value>,
    rules: &[ResourceIgnoreDifferences],
    requests: &prometheus_client::metrics::counter::Counter,
) -> Compared {
    let Some(live) = live else { return Compared::Missing };
    let h = hash(desired);
    if let Some(hit) = cache.get(desired, h, live) {
        return hit;
    }
    let name = desired
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let namespace = desired.pointer("/metadata/namespace").and_then(Value::as_str);
    let api = live_state.api(kind, namespace);
    let params = crate::params::apply_dry_run();
    requests.inc();
    let compared = match api.patch(name, &params, &Patch::Apply(desired)).await {
        Ok(predicted) => match serde_json::to_value::<&DynamicObject>(&predicted) {
            Ok(predicted) => match diff::compare(&predicted, live, rules) {
                Ok(Comparison::Synced) => Compared::Synced,
                Ok(Comparison::OutOfSync(paths)) => {
                    tracing::debug!(resource = %key_of(desired), ?paths, "out of sync");
                    Compared::OutOfSync(paths)
                }
                Err(e) => Compared::Error(format!("{}: {}", e.field, e.message)),
            },
            Err(e) => Compared::Error(e.to_string()),
        },
        Err(kube::Error::Api(status)) => Compared::Error(status.message.clone()),
        Err(e) => return Compared::Error(e.to_string()),
    };
    cache.put(desired, h, live, compared.clone());
    compared
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::ComparisonCache;

    #[test]
    fn a_watch_cache_behind_our_apply_reads_as_not_yet_observed() {
        let cache = ComparisonCache::default();
        let desired = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "api", "namespace": "shop"}});
        let meta = |generation: i64, uid: &str| json!({"name": "api", "namespace": "shop", "uid": uid, "generation": generation, "resourceVersion": "7"});
        let mut written = desired.clone();
        written["metadata"] = meta(3, "u1");
        cache.seed(&desired, &written);
        // The cache still has generation 2, its status observed at 2 and Degraded.
        let mut stale = desired.clone();
        stale["metadata"] = meta(2, "u1");
        stale["status"] = json!({"observedGeneration": "2", "phase": "Degraded"});
        let judged = cache.freshest(&desired, stale.clone());
        assert_eq!(judged["metadata"]["generation"], 3);
        let health = gitops::health::assess(&judged).map(|h| h.status);
        assert_eq!(health, Some(gitops::health::HealthStatus::Progressing));
        // Once the cache has caught up, the live object is judged as it is, and the record goes.
        let mut fresh = stale.clone();
        fresh["metadata"] = meta(3, "u1");
        assert_eq!(cache.freshest(&desired, fresh.clone()), fresh);
        assert_eq!(
            cache.freshest(&desired, stale.clone()),
            stale,
            "forgotten once caught up"
        );
        // A recreated object (another uid) is never mistaken for the applied one.
        cache.seed(&desired, &written);
        let mut other = stale;
        other["metadata"] = meta(1, "u2");
        assert_eq!(cache.freshest(&desired, other.clone()), other);
    }
}
