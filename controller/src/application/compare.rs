//! Comparing one desired resource with the cluster: a server-side apply dry run of the desired
//! object (field manager `sluice`) predicts what applying it would make of the live object, and
//! `gitops::diff` compares the prediction with the live object. The outcome is cached by
//! (resource, hash of the desired object, live resourceVersion), so comparing an unchanged
//! Application costs no API request; an apply seeds the cache with what it wrote.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use crds::gitops::ResourceIgnoreDifferences;
use gitops::diff::{self, Comparison};
use kube::api::{DynamicObject, Patch, PatchParams};
use parking_lot::Mutex;
use serde_json::Value;

use super::live::{Kind, LiveState};
use crate::params::FIELD_MANAGER;

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

/// Cached comparisons.
#[derive(Default)]
pub struct ComparisonCache(Mutex<HashMap<String, (u64, String, Compared)>>);

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
    let params = PatchParams::apply(FIELD_MANAGER).force().dry_run();
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
