//! Table tests of the decision on paused time: a tiny in-memory world applies each plan (creating,
//! scaling and annotating ReplicaSets, switching Services, creating runs, storing the status) and
//! pods become available when a test says so. Transitions follow Argo's `rolloutCanary`,
//! `rolloutBlueGreen`, `reconcileAnalysisRuns` and `GetRolloutPhase`. One file per strategy, and one
//! for what both share.

mod bluegreen;
mod canary;
mod shared;
mod traffic;
mod traffic_managed;
mod traffic_owned;
mod writes;

use std::collections::BTreeMap;

use crate::rollout::traffic::RouteWrite;
use crds::Rollout;
use crds::analysis::{AnalysisPhase, AnalysisRunStatus, AnalysisTemplateSpec};
use crds::rollout::{PauseReason, RolloutPhase, RolloutStatus};
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::apps::v1::ReplicaSetStatus;
use k8s_openapi::api::core::v1::Service;
use serde_json::{Value, json};

use super::decide;
use crate::rollout::identity::{hash_of, spec_replicas};
use crate::rollout::plan::{Action, Plan};
use crate::rollout::snapshot::Snapshot;

fn t0() -> Timestamp {
    "2026-01-01T00:00:00Z".parse().unwrap()
}

fn rollout(spec: Value) -> Rollout {
    let mut full = json!({
        "replicas": 10,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "web:1"}]}},
    });
    for (k, v) in spec.as_object().unwrap() {
        full[k] = v.clone();
    }
    serde_json::from_value(json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
        "metadata": {"name": "web", "namespace": "default", "uid": "uid-web", "generation": 1},
        "spec": full,
    }))
    .unwrap()
}

fn service(name: &str) -> Service {
    serde_json::from_value(
        json!({"metadata": {"name": name, "namespace": "default"}, "spec": {"selector": {"app": "web"}}}),
    )
    .unwrap()
}

/// A world around one Rollout.
struct World {
    snap: Snapshot,
    /// Every plan made, in order.
    plans: Vec<Plan>,
}

impl World {
    fn new(rollout: Rollout) -> Self {
        let services = rollout
            .service_names()
            .into_iter()
            .map(|n| (n.clone(), service(&n)))
            .collect();
        Self {
            snap: Snapshot {
                namespace: rollout.metadata.namespace.clone().unwrap_or_default(),
                rollout,
                services,
                now: t0(),
                ..Snapshot::default()
            },
            plans: Vec::new(),
        }
    }

    fn template(&mut self, name: &str, spec: Value) {
        let spec: AnalysisTemplateSpec = serde_json::from_value(spec).unwrap();
        self.snap.templates.insert(
            crds::rollout::TemplateRef {
                cluster: false,
                name: name.to_string(),
            },
            spec,
        );
    }

    fn status(&self) -> RolloutStatus {
        self.snap.rollout.status.clone().unwrap_or_default()
    }

    fn phase(&self) -> (Option<RolloutPhase>, String) {
        let s = self.status();
        (s.phase, s.message.unwrap_or_default())
    }

    /// One reconcile, applied to the world.
    fn step(&mut self) -> Plan {
        let plan = decide(&self.snap);
        self.apply(&plan);
        self.plans.push(plan.clone());
        plan
    }

    fn apply(&mut self, plan: &Plan) {
        let snap = &mut self.snap;
        for action in &plan.actions {
            match action {
                Action::CreateReplicaSet(rs) => {
                    let mut rs = (**rs).clone();
                    rs.metadata.creation_timestamp =
                        Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(snap.now));
                    rs.status = Some(ReplicaSetStatus::default());
                    snap.replicasets.push(rs);
                }
                Action::ScaleReplicaSet { name, replicas } => {
                    let rs = snap
                        .replicasets
                        .iter_mut()
                        .find(|r| r.metadata.name.as_ref() == Some(name))
                        .unwrap();
                    rs.spec.replicas = Some(*replicas);
                    let status = rs.status.get_or_insert_with(ReplicaSetStatus::default);
                    // Scaling down removes pods at once; scaling up waits for `ready()`.
                    status.replicas = status.replicas.min(*replicas);
                    status.available_replicas = Some(status.available_replicas.unwrap_or(0).min(*replicas));
                    status.ready_replicas = status.available_replicas;
                }
                Action::AnnotateReplicaSet { name, key, value } => {
                    let rs = snap
                        .replicasets
                        .iter_mut()
                        .find(|r| r.metadata.name.as_ref() == Some(name))
                        .unwrap();
                    let annotations = rs.metadata.annotations.get_or_insert_with(BTreeMap::new);
                    match value {
                        Some(v) => annotations.insert(key.clone(), v.clone()),
                        None => annotations.remove(key),
                    };
                }
                Action::AdoptReplicaSet { name } => {
                    let rs = snap
                        .replicasets
                        .iter_mut()
                        .find(|r| r.metadata.name.as_ref() == Some(name))
                        .unwrap();
                    rs.metadata.owner_references = Some(vec![crate::rollout::identity::controller_ref(&snap.rollout)]);
                }
                Action::DeleteReplicaSet { name } => {
                    snap.replicasets.retain(|r| r.metadata.name.as_ref() != Some(name))
                }
                Action::SwitchService { name, hash } => {
                    let svc = snap.services.get_mut(name).unwrap();
                    svc.spec
                        .as_mut()
                        .unwrap()
                        .selector
                        .as_mut()
                        .unwrap()
                        .insert("rollouts-pod-template-hash".into(), hash.clone());
                    svc.metadata
                        .annotations
                        .get_or_insert_with(BTreeMap::new)
                        .insert("argo-rollouts.argoproj.io/managed-by-rollouts".into(), "web".into());
                }
                Action::CreateAnalysisRun(run) => {
                    let mut run = (**run).clone();
                    run.metadata.creation_timestamp =
                        Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(snap.now));
                    snap.runs.push(run);
                }
                Action::TerminateAnalysisRun { name } => {
                    let run = snap
                        .runs
                        .iter_mut()
                        .find(|r| r.metadata.name.as_ref() == Some(name))
                        .unwrap();
                    run.spec.terminate = Some(true);
                }
                Action::DeleteAnalysisRun { name } => snap.runs.retain(|r| r.metadata.name.as_ref() != Some(name)),
                Action::EvictPod { name } => snap.pods.retain(|p| p.metadata.name.as_ref() != Some(name)),
                Action::SetRouteWeights { target, write, .. } => match write {
                    RouteWrite::Patch(patch) => {
                        let route = snap.routes.get_mut(target).unwrap();
                        let patch: json_patch::Patch = serde_json::from_value(Value::Array(patch.clone())).unwrap();
                        json_patch::patch(route, &patch).unwrap();
                    }
                    RouteWrite::Apply(object) => {
                        snap.routes.insert(target.clone(), object.clone());
                    }
                },
                Action::SetRevision { revision } => {
                    snap.rollout
                        .metadata
                        .annotations
                        .get_or_insert_with(BTreeMap::new)
                        .insert("rollout.argoproj.io/revision".into(), revision.to_string());
                }
            }
        }
        if plan.hold_status {
            snap.counts_held_since.get_or_insert(snap.now);
        } else {
            snap.rollout.status = Some(plan.status.clone());
            snap.counts_held_since = None;
        }
    }

    /// Every pod of every ReplicaSet becomes available.
    fn ready(&mut self) {
        for rs in &mut self.snap.replicasets {
            let n = spec_replicas(rs);
            rs.status = Some(ReplicaSetStatus {
                replicas: n,
                available_replicas: Some(n),
                ready_replicas: Some(n),
                ..ReplicaSetStatus::default()
            });
        }
    }

    /// Reconciles (pods becoming ready after each pass) until nothing changes any more.
    fn settle(&mut self) {
        for _ in 0..60 {
            let before = self.snap.rollout.status.clone();
            let plan = self.step();
            self.ready();
            if plan.actions.is_empty() && Some(plan.status) == before {
                return;
            }
        }
        panic!("no fixpoint: {:#?}", self.status());
    }

    /// (spec, available) of the ReplicaSet running `image`.
    fn counts(&self, image: &str) -> (i32, i32) {
        self.snap
            .replicasets
            .iter()
            .filter(|rs| {
                rs.spec
                    .template
                    .as_ref()
                    .and_then(|t| t.spec.as_ref())
                    .map(|s| s.containers[0].image.clone().unwrap_or_default())
                    == Some(image.to_string())
            })
            .map(|rs| {
                (
                    spec_replicas(rs),
                    rs.status.as_ref().and_then(|s| s.available_replicas).unwrap_or(0),
                )
            })
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    }

    fn set_image(&mut self, image: &str) {
        let template = self.snap.rollout.spec.template.as_mut().unwrap();
        template.spec.as_mut().unwrap().containers[0].image = Some(image.into());
        let generation = self.snap.rollout.metadata.generation.unwrap_or(1) + 1;
        self.snap.rollout.metadata.generation = Some(generation);
    }

    fn patch_status(&mut self, patch: Value) {
        let mut status = serde_json::to_value(self.status()).unwrap();
        json_patch::merge(&mut status, &patch);
        self.snap.rollout.status = Some(serde_json::from_value(status).unwrap());
    }

    fn advance(&mut self, secs: i64) {
        self.snap.now += SignedDuration::from_secs(secs);
    }

    fn events(&self) -> Vec<String> {
        self.plans
            .iter()
            .flat_map(|p| p.events.iter().map(|e| format!("{}: {}", e.reason, e.message)))
            .collect()
    }

    fn run_phase(&mut self, name: &str, phase: AnalysisPhase, message: &str) {
        let run = self
            .snap
            .runs
            .iter_mut()
            .find(|r| r.metadata.name.as_deref() == Some(name))
            .unwrap();
        run.status = Some(AnalysisRunStatus {
            phase: Some(phase),
            message: Some(message.into()).filter(|m: &String| !m.is_empty()),
            ..AnalysisRunStatus::default()
        });
    }

    fn service_hash(&self, name: &str) -> Option<String> {
        crate::rollout::decide::services::selected_hash(&self.snap.services[name]).map(str::to_owned)
    }

    fn hash_of_image(&self, image: &str) -> String {
        self.snap
            .replicasets
            .iter()
            .find(|rs| {
                rs.spec
                    .template
                    .as_ref()
                    .and_then(|t| t.spec.as_ref())
                    .and_then(|s| s.containers[0].image.clone())
                    .as_deref()
                    == Some(image)
            })
            .and_then(hash_of)
            .unwrap()
            .to_string()
    }
}

pub(super) fn canary(steps: Value) -> Value {
    json!({"strategy": {"canary": {"steps": steps, "canaryService": "web-canary", "stableService": "web-stable"}}})
}
