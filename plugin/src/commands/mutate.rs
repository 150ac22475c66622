//! The commands that change a Rollout or an AnalysisRun: each patches exactly what Argo's `kubectl-argo-rollouts`
//! says, through `/status` for status fields, and says what it did in one line.

use crds::{AnalysisRun, Rollout};
use kube::api::Patch;
use kube::{Api, Client};
use plugin::patches::{Change, Target};
use serde_json::json;

use super::objects;
use crate::cluster::{Call, CliError};

/// Applies a change to Rollout `name`.
///
/// # Errors
/// API failures, worded.
pub async fn apply(client: &Client, namespace: &str, name: &str, change: &Change) -> Result<(), CliError> {
    let api: Api<Rollout> = Api::namespaced(client.clone(), namespace);
    let params = crds::params::patch();
    for (target, body) in &change.patches {
        let (result, resource) = match target {
            Target::Spec => (
                api.patch(name, &params, &Patch::Merge(body)).await.map(|_| ()),
                "rollouts",
            ),
            Target::Status => {
                // Status fields go to the subresource; a server without one gets the main resource.
                match api.patch_status(name, &params, &Patch::Merge(body)).await {
                    Err(kube::Error::Api(s)) if s.code == 404 => (
                        api.patch(name, &params, &Patch::Merge(body)).await.map(|_| ()),
                        "rollouts",
                    ),
                    other => (other.map(|_| ()), "rollouts/status"),
                }
            }
            Target::JsonPatch => {
                let patch: json_patch::Patch = serde_json::from_value(body.clone())
                    .map_err(|e| CliError::Other(format!("internal: bad JSON patch: {e}")))?;
                (
                    api.patch(name, &params, &Patch::<()>::Json(patch)).await.map(|_| ()),
                    "rollouts",
                )
            }
        };
        result.map_err(|e| {
            Call {
                verb: "patch",
                resource,
                kind: "rollout",
                name,
                namespace,
            }
            .fail(e)
        })?;
    }
    println!("{}", change.said);
    Ok(())
}

/// Reads the Rollout, decides the change with `decide`, applies it.
///
/// # Errors
/// Not found, refused, API failures.
pub async fn run(
    client: &Client,
    namespace: &str,
    name: &str,
    decide: impl FnOnce(&Rollout) -> Result<Change, plugin::patches::Refusal>,
) -> Result<(), CliError> {
    let rollout = objects::rollout(client, namespace, name).await?;
    let change = decide(&rollout)?;
    apply(client, namespace, name, &change).await
}

/// `undo`: needs the ReplicaSets too.
///
/// # Errors
/// Not found, no such revision, API failures.
pub async fn undo(client: &Client, namespace: &str, name: &str, to_revision: Option<i64>) -> Result<(), CliError> {
    let family = objects::read_family(client, namespace, name).await?;
    let change = plugin::patches::undo(&family.rollout, &family.replicasets, to_revision)?;
    apply(client, namespace, name, &change).await
}

/// `terminate analysisrun`.
///
/// # Errors
/// Not found, API failures.
pub async fn terminate_run(client: &Client, namespace: &str, name: &str) -> Result<(), CliError> {
    let api: Api<AnalysisRun> = Api::namespaced(client.clone(), namespace);
    api.patch(
        name,
        &crds::params::patch(),
        &Patch::Merge(json!({"spec": {"terminate": true}})),
    )
    .await
    .map_err(|e| {
        Call {
            verb: "patch",
            resource: "analysisruns",
            kind: "analysisrun",
            name,
            namespace,
        }
        .fail(e)
    })?;
    println!("analysisrun '{name}' terminated");
    Ok(())
}
