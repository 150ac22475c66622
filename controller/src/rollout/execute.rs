//! Carrying out a plan: each action is an idempotent write, so a retried reconcile that repeats one
//! changes nothing. The status goes to the `/status` subresource as a JSON merge patch of only what
//! changed, guarded by the Rollout's resourceVersion.

use crds::rollout::RolloutStatus;
use crds::{AnalysisRun, Rollout};
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{Pod, Service};
use kube::api::{DeleteParams, EvictParams, Patch, PatchParams, PostParams};
use kube::{Api, ResourceExt as _};
use serde_json::{Map, Value, json};

use super::identity::{controller_ref, runs_template};
use super::labels::{DESIRED_REPLICAS_ANNOTATION, HASH_LABEL, MANAGED_BY_ANNOTATION, REVISION_ANNOTATION};
use super::plan::Action;
use crate::{Error, Result};

/// The field manager of the controller's writes.
pub const MANAGER: &str = "sluice-rollouts";

/// What carrying out the actions found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The new ReplicaSet's name was taken by a ReplicaSet with another template.
    pub collision: bool,
    /// Writes made.
    pub writes: u32,
}

fn ignore_status(result: Result<(), kube::Error>, codes: &[u16]) -> Result<(), kube::Error> {
    match result {
        Err(kube::Error::Api(status)) if codes.contains(&status.code) => Ok(()),
        other => other,
    }
}

async fn merge(
    api: &Api<impl kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug>,
    name: &str,
    patch: &Value,
) -> Result<(), kube::Error> {
    api.patch(name, &PatchParams::default(), &Patch::Merge(patch))
        .await
        .map(|_| ())
}

/// Carries out `actions` for `rollout`, in order.
///
/// # Errors
/// The first API failure (the remaining actions are left to the retry).
pub async fn actions(client: &kube::Client, rollout: &Rollout, actions: &[Action]) -> Result<Outcome> {
    let namespace = rollout.namespace().unwrap_or_default();
    let name = rollout.name_any();
    let replicasets: Api<ReplicaSet> = Api::namespaced(client.clone(), &namespace);
    let runs: Api<AnalysisRun> = Api::namespaced(client.clone(), &namespace);
    let services: Api<Service> = Api::namespaced(client.clone(), &namespace);
    let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    let rollouts: Api<Rollout> = Api::namespaced(client.clone(), &namespace);
    let mut outcome = Outcome::default();
    let replicas = rollout.spec.effective_replicas().to_string();
    for action in actions {
        let context = |what: &str| format!("{what} for rollout {namespace}/{name}");
        let result = match action {
            Action::CreateReplicaSet(rs) => match replicasets.create(&PostParams::default(), rs).await {
                Ok(_) => Ok(()),
                Err(kube::Error::Api(status)) if status.code == 409 => {
                    let existing = replicasets
                        .get(&rs.name_any())
                        .await
                        .map_err(|e| Error::kube(context("reading the existing ReplicaSet"), e))?;
                    let ours = existing
                        .owner_references()
                        .iter()
                        .any(|o| Some(&o.uid) == rollout.metadata.uid.as_ref());
                    let template = rollout.spec.template.clone().unwrap_or_default();
                    if !(ours && runs_template(&existing, &template)) {
                        outcome.collision = true;
                        return Ok(outcome);
                    }
                    Ok(())
                }
                Err(e) => Err(e),
            },
            Action::ScaleReplicaSet { name, replicas: to } => {
                let patch = json!({
                    "metadata": {"annotations": {DESIRED_REPLICAS_ANNOTATION: replicas}},
                    "spec": {"replicas": to},
                });
                merge(&replicasets, name, &patch).await
            }
            Action::AnnotateReplicaSet { name, key, value } => {
                let patch = json!({"metadata": {"annotations": {key: value}}});
                merge(&replicasets, name, &patch).await
            }
            Action::AdoptReplicaSet { name } => {
                let patch = json!({"metadata": {"ownerReferences": [controller_ref(rollout)]}});
                merge(&replicasets, name, &patch).await
            }
            Action::DeleteReplicaSet { name } => ignore_status(
                replicasets.delete(name, &DeleteParams::background()).await.map(|_| ()),
                &[404],
            ),
            Action::SwitchService { name: service, hash } => {
                let patch = json!({
                    "metadata": {"annotations": {MANAGED_BY_ANNOTATION: name}},
                    "spec": {"selector": {HASH_LABEL: hash}},
                });
                merge(&services, service, &patch).await
            }
            Action::CreateAnalysisRun(run) => {
                ignore_status(runs.create(&PostParams::default(), run).await.map(|_| ()), &[409])
            }
            Action::TerminateAnalysisRun { name } => {
                ignore_status(merge(&runs, name, &json!({"spec": {"terminate": true}})).await, &[404])
            }
            Action::DeleteAnalysisRun { name } => {
                ignore_status(runs.delete(name, &DeleteParams::background()).await.map(|_| ()), &[404])
            }
            // 429: a PodDisruptionBudget refuses for now; the restart tries again later.
            Action::EvictPod { name } => {
                ignore_status(pods.evict(name, &EvictParams::default()).await.map(|_| ()), &[404, 429])
            }
            Action::SetRevision { revision } => {
                let patch = json!({"metadata": {"annotations": {REVISION_ANNOTATION: revision.to_string()}}});
                merge(&rollouts, &name, &patch).await
            }
        };
        result.map_err(|e| Error::kube(context(&format!("{action:?}").chars().take(60).collect::<String>()), e))?;
        outcome.writes += 1;
    }
    Ok(outcome)
}

/// A JSON merge patch turning `old` into `new`: changed keys with their new value, removed keys as
/// null; `None` when they are equal.
#[must_use]
pub fn merge_diff(old: &Value, new: &Value) -> Option<Value> {
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => {
            let mut patch = Map::new();
            for (key, value) in n {
                match o.get(key) {
                    Some(before) => {
                        if let Some(diff) = merge_diff(before, value) {
                            patch.insert(key.clone(), diff);
                        }
                    }
                    None => {
                        patch.insert(key.clone(), value.clone());
                    }
                }
            }
            for key in o.keys().filter(|k| !n.contains_key(*k)) {
                patch.insert(key.clone(), Value::Null);
            }
            (!patch.is_empty()).then_some(Value::Object(patch))
        }
        (o, n) if o == n => None,
        (_, n) => Some(n.clone()),
    }
}

/// Writes the status when it differs from the stored one. Returns whether it wrote.
///
/// # Errors
/// API failures; a 409 means the Rollout changed meanwhile and the reconcile is retried.
pub async fn status(client: &kube::Client, rollout: &Rollout, status: &RolloutStatus) -> Result<bool> {
    let old = serde_json::to_value(rollout.status.clone().unwrap_or_default()).map_err(|source| Error::Serialize {
        what: "rollout status",
        source,
    })?;
    let new = serde_json::to_value(status).map_err(|source| Error::Serialize {
        what: "rollout status",
        source,
    })?;
    let Some(diff) = merge_diff(&old, &new) else {
        return Ok(false);
    };
    let namespace = rollout.namespace().unwrap_or_default();
    let name = rollout.name_any();
    let patch = json!({
        "metadata": {"resourceVersion": rollout.resource_version()},
        "status": diff,
    });
    let api: Api<Rollout> = Api::namespaced(client.clone(), &namespace);
    api.patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(|e| Error::kube(format!("writing status of rollout {namespace}/{name}"), e))?;
    Ok(true)
}

/// Bumps `status.collisionCount` after a hash collision, so the next hash differs.
///
/// # Errors
/// API failures.
pub async fn bump_collision_count(client: &kube::Client, rollout: &Rollout) -> Result<()> {
    let count = rollout.status.as_ref().and_then(|s| s.collision_count).unwrap_or(0) + 1;
    let namespace = rollout.namespace().unwrap_or_default();
    let api: Api<Rollout> = Api::namespaced(client.clone(), &namespace);
    let patch = json!({"status": {"collisionCount": count}});
    api.patch_status(&rollout.name_any(), &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(|e| {
            Error::kube(
                format!("bumping collisionCount of rollout {namespace}/{}", rollout.name_any()),
                e,
            )
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_diff_carries_only_changes_and_nulls_removed_keys() {
        let old = json!({"phase": "Paused", "pauseConditions": [{"reason": "CanaryPauseStep"}], "replicas": 5, "canary": {"a": 1, "b": 2}});
        let new = json!({"phase": "Progressing", "replicas": 5, "canary": {"a": 1, "b": 3}});
        assert_eq!(
            merge_diff(&old, &new),
            Some(json!({"phase": "Progressing", "pauseConditions": null, "canary": {"b": 3}}))
        );
        assert_eq!(merge_diff(&new, &new), None);
    }
}
