//! Writing an ApplicationSet's status (the reconcilers' one way, `crate::status_patch`) only
//! when it changed, and its Events.

use crds::gitops::{ApplicationSet, ApplicationSetStatus};
use kube::{Api, Resource as _, ResourceExt as _};

use super::context::AppSetContext;
use super::plan::Event;
use super::snapshot::Snapshot;
use crate::error::ObjectKey;
use crate::events;
use crate::{Result, status_patch};

/// Writes `status` when it differs from the observed one (the reconcilers' one way,
/// `crate::status_patch`); returns whether it wrote.
///
/// # Errors
/// API failures; a 409 when the ApplicationSet changed since it was observed.
pub async fn write(ctx: &AppSetContext, snap: &Snapshot, status: &ApplicationSetStatus) -> Result<bool> {
    let set = &snap.appset;
    let namespace = set.namespace().unwrap_or_default();
    let key = || ObjectKey::namespaced("ApplicationSet", &namespace, &set.name_any());
    let old = status_patch::serialize(set.status.as_ref(), key)?;
    let new = status_patch::serialize(Some(status), key)?;
    if crate::merge_patch::diff(&old, &new).is_none() {
        return Ok(false);
    }
    let api: Api<ApplicationSet> = Api::namespaced(ctx.runtime.base.client.clone(), &namespace);
    ctx.runtime.base.metrics.app_requests.inc();
    let written = status_patch::write(&api, &set.name_any(), set.resource_version(), &old, &new, key).await?;
    Ok(written.is_some())
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
