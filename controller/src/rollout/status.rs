//! Writing a Rollout's status: to the `/status` subresource, as a JSON merge patch of only what
//! changed, guarded by the resourceVersion the decision was made on (a concurrent write makes it
//! fail with 409 and the reconcile is retried on fresh state, so nothing is lost).

use crds::Rollout;
use crds::rollout::RolloutStatus;
use kube::api::Patch;
use kube::{Api, ResourceExt as _};
use serde_json::json;

use super::snapshot::Snapshot;
use crate::{Error, ObjectKey, Result, params};

fn key(snap: &Snapshot) -> ObjectKey {
    ObjectKey::namespaced("Rollout", &snap.namespace, &snap.rollout.name_any())
}

fn api(client: &kube::Client, snap: &Snapshot) -> Api<Rollout> {
    Api::namespaced(client.clone(), &snap.namespace)
}

/// Writes `status` when it differs from the stored one. Returns whether it wrote.
///
/// # Errors
/// API failures; a 409 means the Rollout changed meanwhile and the reconcile is retried.
pub async fn write(client: &kube::Client, snap: &Snapshot, status: &RolloutStatus) -> Result<bool> {
    let serialize = |status: &RolloutStatus| {
        serde_json::to_value(status).map_err(|source| Error::Serialize {
            what: "status",
            object: Box::new(key(snap)),
            source,
        })
    };
    let old = serialize(&snap.rollout.status.clone().unwrap_or_default())?;
    let Some(diff) = crate::merge_patch::diff(&old, &serialize(status)?) else {
        return Ok(false);
    };
    let patch = json!({
        "metadata": {"resourceVersion": snap.rollout.resource_version()},
        "status": diff,
    });
    api(client, snap)
        .patch_status(&snap.rollout.name_any(), &params::patch(), &Patch::Merge(&patch))
        .await
        .map_err(|e| Error::kube("writing the status of", key(snap), e))?;
    Ok(true)
}

/// Bumps `status.collisionCount` after a hash collision, so the next hash differs.
///
/// # Errors
/// API failures.
pub async fn bump_collision_count(client: &kube::Client, snap: &Snapshot) -> Result<()> {
    let count = snap
        .rollout
        .status
        .as_ref()
        .and_then(|s| s.collision_count)
        .unwrap_or(0)
        + 1;
    let patch = json!({"status": {"collisionCount": count}});
    api(client, snap)
        .patch_status(&snap.rollout.name_any(), &params::patch(), &Patch::Merge(&patch))
        .await
        .map_err(|e| Error::kube("bumping the collisionCount of", key(snap), e))?;
    Ok(())
}
