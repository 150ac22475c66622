//! Writing a Rollout's status, the reconcilers' one way (`crate::status_patch`: a merge patch of
//! what changed, guarded by the resourceVersion the decision was made on), and bumping its
//! collision count.

use crds::Rollout;
use crds::rollout::RolloutStatus;
use kube::api::Patch;
use kube::{Api, ResourceExt as _};
use serde_json::json;

use super::snapshot::Snapshot;
use crate::{Error, ObjectKey, Result, params, status_patch};

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
    let old = status_patch::serialize(Some(&snap.rollout.status.clone().unwrap_or_default()), || key(snap))?;
    let new = status_patch::serialize(Some(status), || key(snap))?;
    let written = status_patch::write(
        &api(client, snap),
        &snap.rollout.name_any(),
        snap.rollout.resource_version(),
        &old,
        &new,
        || key(snap),
    )
    .await?;
    Ok(written.is_some())
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
