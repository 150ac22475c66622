//! Reading a Rollout and the objects it owns.

use crds::{AnalysisRun, Rollout};
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Pod;
use kube::api::ListParams;
use kube::{Api, Client};
use plugin::family::Family;

use crate::cluster::{Call, CliError};

/// Reads a Rollout.
///
/// # Errors
/// Not found, forbidden, unreachable.
pub async fn rollout(client: &Client, namespace: &str, name: &str) -> Result<Rollout, CliError> {
    let api: Api<Rollout> = Api::namespaced(client.clone(), namespace);
    api.get(name).await.map_err(|e| {
        Call {
            verb: "get",
            resource: "rollouts",
            kind: "rollout",
            name,
            namespace,
        }
        .fail(e)
    })
}

async fn list<K>(client: &Client, namespace: &str, resource: &'static str) -> Result<Vec<K>, CliError>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    api.list(&ListParams::default()).await.map(|l| l.items).map_err(|e| {
        Call {
            verb: "list",
            resource,
            kind: resource,
            name: "",
            namespace,
        }
        .fail(e)
    })
}

/// Reads a Rollout and everything it owns.
///
/// # Errors
/// Not found, forbidden, unreachable.
pub async fn read_family(client: &Client, namespace: &str, name: &str) -> Result<Family, CliError> {
    let rollout = rollout(client, namespace, name).await?;
    let replicasets: Vec<ReplicaSet> = list(client, namespace, "replicasets").await?;
    let pods: Vec<Pod> = list(client, namespace, "pods").await?;
    let runs: Vec<AnalysisRun> = list(client, namespace, "analysisruns").await?;
    Ok(Family::of(rollout, &replicasets, &pods, &runs))
}
