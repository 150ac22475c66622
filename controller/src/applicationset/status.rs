//! Writing an ApplicationSet's status (the status subresource, by merge patch) only when it
//! changed, and its Events.

use crds::gitops::{ApplicationSet, ApplicationSetStatus};
use kube::api::Patch;
use kube::{Api, Resource as _, ResourceExt as _};
use serde_json::json;

use super::context::AppSetContext;
use super::snapshot::{Event, Snapshot};
use crate::error::ObjectKey;
use crate::events;
use crate::{Error, Result, params};

/// Writes `status` when it differs from the observed one; returns whether it wrote.
///
/// # Errors
/// API failures.
pub async fn write(ctx: &AppSetContext, snap: &Snapshot, status: &ApplicationSetStatus) -> Result<bool> {
    let set = &snap.appset;
    if set.status.as_ref() == Some(status) {
        return Ok(false);
    }
    let namespace = set.namespace().unwrap_or_default();
    let api: Api<ApplicationSet> = Api::namespaced(ctx.runtime.base.client.clone(), &namespace);
    let patch = json!({"status": {"conditions": status.conditions, "resources": status.resources}});
    ctx.runtime.base.metrics.app_requests.inc();
    api.patch_status(&set.name_any(), &params::patch(), &Patch::Merge(&patch))
        .await
        .map_err(|e| {
            Error::kube(
                "writing the status of",
                ObjectKey::namespaced("ApplicationSet", &namespace, &set.name_any()),
                e,
            )
        })?;
    Ok(true)
}

/// Publishes `notes` on the ApplicationSet.
pub async fn publish(ctx: &AppSetContext, snap: &Snapshot, notes: &[Event]) {
    events::publish(
        &ctx.runtime.base.recorder,
        &snap.appset.object_ref(&()),
        "Generate",
        notes,
    )
    .await;
}
