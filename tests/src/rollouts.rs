//! Observing and steering Rollouts in a test cluster: waiting for a phase, reading ReplicaSet and
//! Service state, and the patches `kubectl argo rollouts` makes (those of Argo's `kubectl-argo-rollouts`).

use std::time::Duration;

use crds::Rollout;
use crds::rollout::RolloutPhase;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Service;
use kube::api::{ListParams, Patch, PatchParams};
use kube::{Api, Client};
use serde_json::{Value, json};

/// One ReplicaSet of a Rollout as the tests look at it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RsView {
    /// `rollouts-pod-template-hash`.
    pub hash: String,
    /// `spec.replicas`.
    pub spec: i32,
    /// `status.availableReplicas`.
    pub available: i32,
    /// Image of the first container.
    pub image: String,
}

/// A Rollout under test.
#[derive(Clone)]
pub struct Probe {
    client: Client,
    namespace: String,
    name: String,
}

impl Probe {
    /// Follows Rollout `name` in `namespace`.
    pub fn new(client: &Client, namespace: &str, name: &str) -> Self {
        Self {
            client: client.clone(),
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    fn api(&self) -> Api<Rollout> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    /// The Rollout now.
    pub async fn get(&self) -> Rollout {
        self.api().get(&self.name).await.unwrap()
    }

    /// Waits until `check` holds for the Rollout (and its ReplicaSets), failing after `timeout`
    /// with the last state seen.
    pub async fn wait(&self, what: &str, timeout: Duration, check: impl Fn(&Rollout, &[RsView]) -> bool) -> Rollout {
        let what = format!("{}: {what}", self.name);
        let (rollout, _) = crate::wait::until_state(
            &what,
            timeout,
            Duration::from_millis(100),
            || async { (self.get().await, self.replicasets().await) },
            |(rollout, sets)| check(rollout, sets),
        )
        .await;
        rollout
    }

    /// Waits for a phase.
    pub async fn wait_phase(&self, phase: RolloutPhase, timeout: Duration) -> Rollout {
        self.wait(&format!("phase {phase:?}"), timeout, |r, _| phase_of(r) == Some(phase))
            .await
    }

    /// The Rollout's ReplicaSets, oldest revision first.
    pub async fn replicasets(&self) -> Vec<RsView> {
        let api: Api<ReplicaSet> = Api::namespaced(self.client.clone(), &self.namespace);
        let mut sets: Vec<(i64, RsView)> = api
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .filter(|rs| {
                rs.metadata
                    .owner_references
                    .iter()
                    .flatten()
                    .any(|o| o.kind == "Rollout" && o.name == self.name)
            })
            .map(|rs| {
                let revision = rs
                    .metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get("rollout.argoproj.io/revision"))
                    .and_then(|r| r.parse().ok())
                    .unwrap_or(0);
                let view = RsView {
                    hash: rs
                        .metadata
                        .labels
                        .as_ref()
                        .and_then(|l| l.get("rollouts-pod-template-hash"))
                        .cloned()
                        .unwrap_or_default(),
                    spec: rs.spec.replicas.unwrap_or(1),
                    available: rs.status.as_ref().and_then(|s| s.available_replicas).unwrap_or(0),
                    image: rs
                        .spec
                        .template
                        .as_ref()
                        .and_then(|t| t.spec.as_ref())
                        .and_then(|s| s.containers.first())
                        .and_then(|c| c.image.clone())
                        .unwrap_or_default(),
                };
                (revision, view)
            })
            .collect();
        sets.sort_by_key(|(r, _)| *r);
        sets.into_iter().map(|(_, v)| v).collect()
    }

    /// (spec, available) of the ReplicaSet running `image`, (0, 0) when there is none.
    pub async fn counts_of(&self, image: &str) -> (i32, i32) {
        self.replicasets()
            .await
            .iter()
            .filter(|rs| rs.image == image)
            .fold((0, 0), |(s, a), rs| (s + rs.spec, a + rs.available))
    }

    /// The hash a Service selects.
    pub async fn service_hash(&self, service: &str) -> Option<String> {
        let api: Api<Service> = Api::namespaced(self.client.clone(), &self.namespace);
        let svc = api.get(service).await.unwrap();
        svc.spec?.selector?.get("rollouts-pod-template-hash").cloned()
    }

    /// Merge-patches the Rollout.
    pub async fn patch(&self, patch: Value) {
        self.api()
            .patch(&self.name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .unwrap();
    }

    /// Merge-patches the Rollout's status subresource.
    pub async fn patch_status(&self, patch: Value) {
        self.api()
            .patch_status(&self.name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .unwrap();
    }

    /// Changes the image of the first container.
    pub async fn set_image(&self, image: &str) {
        let mut rollout = self.get().await;
        let template = rollout.spec.template.as_mut().unwrap();
        let spec = template.spec.as_mut().unwrap();
        spec.containers[0].image = Some(image.to_string());
        let patch = json!({"spec": {"template": serde_json::to_value(&rollout.spec.template).unwrap()}});
        self.patch(patch).await;
        self.wait_observed().await;
    }

    /// Waits until the controller has acted on the Rollout's latest spec.
    pub async fn wait_observed(&self) {
        self.wait(
            "the controller to observe the latest spec",
            Duration::from_secs(30),
            |r, _| {
                let generation = r.metadata.generation.map(|g| g.to_string());
                r.status.as_ref().and_then(|s| s.observed_generation.clone()) == generation
                    && r.status.as_ref().and_then(|s| s.current_pod_hash.clone()).is_some()
            },
        )
        .await;
    }

    /// `kubectl argo rollouts promote`: resume a pause, or skip the current step.
    pub async fn promote(&self) {
        let rollout = self.get().await;
        let status = rollout.status.clone().unwrap_or_default();
        if rollout.spec.paused == Some(true) {
            self.patch(json!({"spec": {"paused": false}})).await;
        }
        if status.pause_conditions.is_empty() {
            let next = status.current_step_index.unwrap_or(0) + 1;
            self.patch_status(json!({"status": {"pauseConditions": null, "currentStepIndex": next}}))
                .await;
        } else {
            self.patch_status(json!({"status": {"pauseConditions": null}})).await;
        }
    }

    /// `kubectl argo rollouts abort`.
    pub async fn abort(&self) {
        self.patch_status(json!({"status": {"abort": true}})).await;
    }

    /// `kubectl argo rollouts retry rollout`.
    pub async fn retry(&self) {
        self.patch_status(json!({"status": {"abort": false}})).await;
    }
}

/// The phase in a Rollout's status.
pub fn phase_of(rollout: &Rollout) -> Option<RolloutPhase> {
    rollout.status.as_ref().and_then(|s| s.phase)
}

/// The current step index.
pub fn step_of(rollout: &Rollout) -> Option<i32> {
    rollout.status.as_ref().and_then(|s| s.current_step_index)
}
