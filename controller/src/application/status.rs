//! Writing the Application's status: a JSON merge patch of only what changed (removed fields as
//! `null`), guarded by the resourceVersion the decision was made on, so an idle Application
//! writes nothing; then the `operation` field is cleared when an operation started.

use crds::gitops::StoredApplication;
use kube::api::Patch;
use kube::{Api, ResourceExt as _};
use serde_json::{Map, Value, json};

use super::context::AppContext;
use super::plan::Decision;
use super::snapshot::Snapshot;
use crate::{Error, ObjectKey, Result, params};

/// The RFC 7386 merge patch that turns `old` into `new`.
#[must_use]
pub fn merge_diff(old: &Value, new: &Value) -> Option<Value> {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let mut patch = Map::new();
            for (k, v) in b {
                match a.get(k) {
                    Some(old_v) => {
                        if let Some(p) = merge_diff(old_v, v) {
                            patch.insert(k.clone(), p);
                        }
                    }
                    None => {
                        patch.insert(k.clone(), v.clone());
                    }
                }
            }
            for k in a.keys().filter(|k| !b.contains_key(*k)) {
                patch.insert(k.clone(), Value::Null);
            }
            (!patch.is_empty()).then_some(Value::Object(patch))
        }
        (a, b) if a == b => None,
        (_, b) => Some(b.clone()),
    }
}

/// Writes what changed in the status, and clears `operation` when asked. Returns the writes made.
///
/// # Errors
/// API failures (a 409 when the Application changed since it was observed).
pub async fn write(ctx: &AppContext, snap: &Snapshot, decision: &Decision) -> Result<u32> {
    let api: Api<StoredApplication> = Api::namespaced(ctx.base.client.clone(), &ctx.settings.namespace);
    let key = || ObjectKey::namespaced("Application", &ctx.settings.namespace, snap.name());
    let serialize = |v: &Option<crds::gitops::ApplicationStatus>| {
        serde_json::to_value(v).map_err(|source| Error::Serialize {
            what: "status",
            object: Box::new(key()),
            source,
        })
    };
    let old = serialize(&snap.app.status)?;
    let new = serialize(&Some(decision.status.clone()))?;
    let mut writes = 0;
    let mut resource_version = snap.app.resource_version();
    let old = if old.is_null() { json!({}) } else { old };
    if let Some(diff) = merge_diff(&old, &new) {
        ctx.base.metrics.app_requests.inc();
        let patch = json!({"metadata": {"resourceVersion": resource_version}, "status": diff});
        let written = api
            .patch_status(snap.name(), &params::patch(), &Patch::Merge(&patch))
            .await
            .map_err(|e| Error::kube("writing the status of", key(), e))?;
        resource_version = written.resource_version();
        writes += 1;
    }
    if decision.clear_operation {
        ctx.base.metrics.app_requests.inc();
        let patch = json!({"metadata": {"resourceVersion": resource_version}, "operation": null});
        api.patch(snap.name(), &params::patch(), &Patch::Merge(&patch))
            .await
            .map_err(|e| Error::kube("clearing the operation of", key(), e))?;
        writes += 1;
    }
    Ok(writes)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::merge_diff;

    #[test]
    fn merge_patches_carry_only_changes_and_nulls_for_removals() {
        let old = json!({"sync": {"status": "Synced", "revision": "a"}, "operationState": {"finishedAt": "t"}});
        let new = json!({"sync": {"status": "OutOfSync", "revision": "a"}, "operationState": {}});
        assert_eq!(
            merge_diff(&old, &new),
            Some(json!({"sync": {"status": "OutOfSync"}, "operationState": {"finishedAt": null}}))
        );
        assert_eq!(merge_diff(&old, &old), None);
    }
}
