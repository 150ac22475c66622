//! Carrying out a plan's actions: each is an idempotent write (named by the field manager
//! `sluice`), so a retried reconcile that repeats one changes nothing.

use crds::keys::{DESIRED_REPLICAS_ANNOTATION, HASH_LABEL, MANAGED_BY_ANNOTATION, REVISION_ANNOTATION};
use crds::{AnalysisRun, Rollout};
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{Pod, Service};
use kube::api::{DeleteParams, DynamicObject, EvictParams, Patch};
use kube::{Api, ResourceExt as _};
use serde_json::{Value, json};

use super::identity::{controller_ref, runs_template};
use super::plan::Action;
use super::snapshot::Snapshot;
use super::traffic::{RouteTarget, RouteWrite};
use crate::{Error, ObjectKey, Result, params};

/// What carrying out the actions found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The new ReplicaSet's name was taken by a ReplicaSet with another template.
    pub collision: bool,
    /// Writes made.
    pub writes: u32,
}

/// The APIs of one namespace.
struct Apis {
    replicasets: Api<ReplicaSet>,
    runs: Api<AnalysisRun>,
    services: Api<Service>,
    pods: Api<Pod>,
    rollouts: Api<Rollout>,
    client: kube::Client,
}

impl Apis {
    fn new(client: &kube::Client, namespace: &str) -> Self {
        Self {
            replicasets: Api::namespaced(client.clone(), namespace),
            runs: Api::namespaced(client.clone(), namespace),
            services: Api::namespaced(client.clone(), namespace),
            pods: Api::namespaced(client.clone(), namespace),
            rollouts: Api::namespaced(client.clone(), namespace),
            client: client.clone(),
        }
    }
}

/// Treats the given HTTP codes as success (the write already happened, or is not possible now).
fn tolerate(result: Result<(), kube::Error>, codes: &[u16]) -> Result<(), kube::Error> {
    match result {
        Err(kube::Error::Api(status)) if codes.contains(&status.code) => Ok(()),
        other => other,
    }
}

async fn merge<K>(api: &Api<K>, name: &str, patch: &Value) -> Result<(), kube::Error>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    api.patch(name, &params::patch(), &Patch::Merge(patch))
        .await
        .map(|_| ())
}

/// Carries out `actions` for the snapshot's Rollout, in order.
///
/// # Errors
/// The first API failure (the remaining actions are left to the retry), naming the action's object.
pub async fn actions(client: &kube::Client, snap: &Snapshot, actions: &[Action]) -> Result<Outcome> {
    let apis = Apis::new(client, &snap.namespace);
    let mut outcome = Outcome::default();
    for action in actions {
        let object = |(kind, name): (&'static str, String)| ObjectKey::namespaced(kind, &snap.namespace, &name);
        let key = object(action.object().unwrap_or(("Rollout", snap.rollout.name_any())));
        match one(&apis, snap, action).await {
            Ok(Written::Yes) => outcome.writes += 1,
            Ok(Written::Collision) => {
                outcome.collision = true;
                return Ok(outcome);
            }
            Err(source) => return Err(Error::kube(action.verb(), key, source)),
        }
    }
    Ok(outcome)
}

/// The result of one action.
enum Written {
    Yes,
    /// The new ReplicaSet's name is taken by another template.
    Collision,
}

async fn one(apis: &Apis, snap: &Snapshot, action: &Action) -> Result<Written, kube::Error> {
    let rollout = &snap.rollout;
    let result = match action {
        Action::CreateReplicaSet(rs) => return create_replicaset(apis, rollout, rs).await,
        Action::ScaleReplicaSet { name, replicas } => {
            let desired = rollout.spec.effective_replicas().to_string();
            let patch = json!({
                "metadata": {"annotations": {DESIRED_REPLICAS_ANNOTATION: desired}},
                "spec": {"replicas": replicas},
            });
            merge(&apis.replicasets, name, &patch).await
        }
        Action::AnnotateReplicaSet { name, key, value } => {
            merge(
                &apis.replicasets,
                name,
                &json!({"metadata": {"annotations": {key: value}}}),
            )
            .await
        }
        Action::AdoptReplicaSet { name } => {
            let patch = json!({"metadata": {"ownerReferences": [controller_ref(rollout)]}});
            merge(&apis.replicasets, name, &patch).await
        }
        Action::DeleteReplicaSet { name } => tolerate(
            apis.replicasets
                .delete(name, &DeleteParams::background())
                .await
                .map(|_| ()),
            &[404],
        ),
        Action::SwitchService { name, hash } => {
            let patch = json!({
                "metadata": {"annotations": {MANAGED_BY_ANNOTATION: rollout.name_any()}},
                "spec": {"selector": {HASH_LABEL: hash}},
            });
            merge(&apis.services, name, &patch).await
        }
        Action::CreateAnalysisRun(run) => tolerate(apis.runs.create(&params::create(), run).await.map(|_| ()), &[409]),
        Action::TerminateAnalysisRun { name } => tolerate(
            merge(&apis.runs, name, &json!({"spec": {"terminate": true}})).await,
            &[404],
        ),
        Action::DeleteAnalysisRun { name } => tolerate(
            apis.runs.delete(name, &DeleteParams::background()).await.map(|_| ()),
            &[404],
        ),
        // 429: a PodDisruptionBudget refuses for now; the restart tries again later.
        Action::EvictPod { name } => tolerate(
            apis.pods.evict(name, &EvictParams::default()).await.map(|_| ()),
            &[404, 429],
        ),
        Action::SetRouteWeights { target, write, .. } => set_route_weights(apis, target, write).await,
        Action::SetRevision { revision } => {
            let patch = json!({"metadata": {"annotations": {REVISION_ANNOTATION: revision.to_string()}}});
            merge(&apis.rollouts, &rollout.name_any(), &patch).await
        }
    };
    result.map(|()| Written::Yes)
}

/// Patches a router object's weight fields.
async fn set_route_weights(apis: &Apis, target: &RouteTarget, write: &RouteWrite) -> Result<(), kube::Error> {
    let resource = target.api_resource();
    let api: Api<DynamicObject> = Api::namespaced_with(apis.client.clone(), &target.namespace, &resource);
    match write {
        RouteWrite::Patch(ops) => {
            let patch: json_patch::Patch =
                serde_json::from_value(Value::Array(ops.clone())).map_err(kube::Error::SerdeError)?;
            api.patch(&target.name, &crate::params::patch(), &Patch::<()>::Json(patch))
                .await?;
        }
        // The object is the Rollout's own: its router takes every field it writes.
        RouteWrite::Apply(object) => {
            api.patch(&target.name, &crate::params::apply(), &Patch::Apply(object))
                .await?;
        }
    }
    Ok(())
}

/// Creates the new ReplicaSet; one of the same name that is ours and runs the template counts as
/// created (a retried reconcile), any other is a hash collision.
async fn create_replicaset(apis: &Apis, rollout: &Rollout, rs: &ReplicaSet) -> Result<Written, kube::Error> {
    match apis.replicasets.create(&params::create(), rs).await {
        Ok(_) => Ok(Written::Yes),
        Err(kube::Error::Api(status)) if status.code == 409 => {
            let existing = apis.replicasets.get(&rs.name_any()).await?;
            let ours = existing
                .owner_references()
                .iter()
                .any(|o| Some(&o.uid) == rollout.metadata.uid.as_ref());
            let template = rollout.spec.template.clone().unwrap_or_default();
            Ok(if ours && runs_template(&existing, &template) {
                Written::Yes
            } else {
                Written::Collision
            })
        }
        Err(e) => Err(e),
    }
}
