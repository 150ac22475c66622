//! The one way the reconcilers write a status (Rollouts, Applications, ApplicationSets): to the
//! `/status` subresource, as a JSON merge patch of only what changed (removed fields as `null`),
//! guarded by the resourceVersion the decision was made on. An unchanged status writes nothing; a
//! decision made on a stale copy fails with 409 and the reconcile is retried on fresh state, so no
//! newer status is overwritten. (AnalysisRuns are the one exception; `analysisrun/status.rs` says
//! why.)

use kube::Api;
use kube::api::Patch;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::{Error, ObjectKey, Result, params};

/// A status serialized for comparison (an absent status is `{}`).
///
/// # Errors
/// The status cannot be serialized.
pub fn serialize<S: Serialize>(status: Option<&S>, object: impl FnOnce() -> ObjectKey) -> Result<Value> {
    let value = serde_json::to_value(status).map_err(|source| Error::Serialize {
        what: "status",
        object: Box::new(object()),
        source,
    })?;
    Ok(if value.is_null() { json!({}) } else { value })
}

/// Writes `new` over `old` on `name`'s status when they differ, guarded by `resource_version`.
/// Returns the object as written, or `None` when nothing changed.
///
/// # Errors
/// API failures; a 409 when the object changed since `resource_version`.
pub async fn write<K>(
    api: &Api<K>,
    name: &str,
    resource_version: Option<String>,
    old: &Value,
    new: &Value,
    object: impl FnOnce() -> ObjectKey,
) -> Result<Option<K>>
where
    K: Clone + DeserializeOwned + std::fmt::Debug,
{
    let Some(diff) = crate::merge_patch::diff(old, new) else {
        return Ok(None);
    };
    let patch = json!({"metadata": {"resourceVersion": resource_version}, "status": diff});
    let written = api
        .patch_status(name, &params::patch(), &Patch::Merge(&patch))
        .await
        .map_err(|e| Error::kube("writing the status of", object(), e))?;
    Ok(Some(written))
}
