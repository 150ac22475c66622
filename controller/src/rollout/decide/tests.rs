//! Table tests of the decision on paused time: a tiny in-memory world applies each plan (creating,
//! scaling and annotating ReplicaSets, switching Services, creating runs, storing the status) and
//! pods become available when a test says so. Transitions follow reference b2–b9.

use std::collections::BTreeMap;

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
        let services = crate::rollout::decide::service_names(&rollout)
            .into_iter()
            .map(|n| (n.clone(), service(&n)))
            .collect();
        Self {
            snap: Snapshot {
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
        self.snap.templates.insert((false, name.to_string()), spec);
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
                Action::SetRevision { revision } => {
                    snap.rollout
                        .metadata
                        .annotations
                        .get_or_insert_with(BTreeMap::new)
                        .insert("rollout.argoproj.io/revision".into(), revision.to_string());
                }
            }
        }
        snap.rollout.status = Some(plan.status.clone());
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

fn canary(steps: Value) -> Value {
    json!({"strategy": {"canary": {"steps": steps, "canaryService": "web-canary", "stableService": "web-stable"}}})
}

#[test]
fn the_first_deploy_goes_straight_to_full_size_and_becomes_stable() {
    let mut w = World::new(rollout(canary(json!([{"setWeight": 20}, {"pause": {}}]))));
    w.settle();
    let status = w.status();
    assert_eq!(w.counts("web:1"), (10, 10));
    assert_eq!(status.stable_rs, status.current_pod_hash);
    assert_eq!(status.current_step_index, Some(2), "every step skipped");
    assert_eq!(w.phase(), (Some(RolloutPhase::Healthy), String::new()));
    assert!(
        w.events().iter().any(|e| e.ends_with(": Initial deploy")),
        "{:?}",
        w.events()
    );
    assert_eq!(w.service_hash("web-stable"), status.stable_rs);
    // An idle, healthy Rollout: no action, and the status is left exactly as stored.
    let plan = decide(&w.snap);
    assert!(plan.actions.is_empty(), "{:?}", plan.actions);
    assert_eq!(Some(plan.status), w.snap.rollout.status);
    assert_eq!(plan.requeue_at, None);
}

#[test]
fn a_canary_walks_its_weights_and_pauses() {
    let mut w = World::new(rollout(canary(json!([
        {"setWeight": 20}, {"pause": {}}, {"setWeight": 50}, {"pause": {"duration": "30s"}}, {"setWeight": 100}
    ]))));
    w.settle();
    w.set_image("web:2");
    w.settle();
    // Reference b3 worked example: 10 replicas, defaults, 20% -> 2 new / 8 stable, then the pause.
    assert_eq!((w.counts("web:2"), w.counts("web:1")), ((2, 2), (8, 8)));
    let status = w.status();
    assert_eq!(status.current_step_index, Some(1));
    assert_eq!(status.pause_conditions[0].reason, PauseReason::CanaryPauseStep);
    assert_eq!(status.controller_pause, Some(true));
    assert_eq!(w.phase(), (Some(RolloutPhase::Paused), "CanaryPauseStep".into()));
    assert_eq!(
        w.service_hash("web-canary").as_deref(),
        Some(w.hash_of_image("web:2").as_str())
    );
    assert_eq!(
        w.service_hash("web-stable").as_deref(),
        Some(w.hash_of_image("web:1").as_str())
    );
    assert!(
        w.events()
            .contains(&"RolloutStepCompleted: Rollout step 1/5 completed (setWeight: 20)".to_string())
    );

    // Promote: a person removes the pause condition.
    w.patch_status(json!({"pauseConditions": null}));
    w.settle();
    assert_eq!((w.counts("web:2"), w.counts("web:1")), ((5, 5), (5, 5)));
    let status = w.status();
    assert_eq!(status.current_step_index, Some(3));
    let started = status.pause_conditions[0].start_time.0;
    assert_eq!(started, t0());
    // The timed pause asks to be woken exactly at its end, and completes then, not before.
    let plan = decide(&w.snap);
    assert_eq!(plan.requeue_at, Some(t0() + SignedDuration::from_secs(30)));
    w.advance(29);
    w.settle();
    assert_eq!(w.status().current_step_index, Some(3));
    w.advance(1);
    w.settle();
    let status = w.status();
    assert_eq!(status.stable_rs.as_deref(), Some(w.hash_of_image("web:2").as_str()));
    assert_eq!(status.current_step_index, Some(5));
    assert_eq!((w.counts("web:2"), w.counts("web:1")), ((10, 10), (0, 0)));
    assert_eq!(w.phase().0, Some(RolloutPhase::Healthy));
    assert!(
        w.events()
            .iter()
            .any(|e| e.starts_with("RolloutCompleted: Rollout completed update to revision 2"))
    );
}

#[test]
fn nothing_completes_while_manually_paused() {
    let mut w = World::new(rollout(canary(json!([{"setWeight": 20}, {"setWeight": 40}]))));
    w.settle();
    w.snap.rollout.spec.paused = Some(true);
    w.set_image("web:2");
    w.settle();
    assert_eq!(w.phase(), (Some(RolloutPhase::Paused), "manually paused".into()));
    assert_eq!(w.status().current_step_index, Some(0));
    w.snap.rollout.spec.paused = Some(false);
    w.settle();
    assert_eq!(w.phase().0, Some(RolloutPhase::Healthy));
}

fn with_analysis() -> World {
    let mut w = World::new(rollout(canary(json!([
        {"setWeight": 20}, {"analysis": {"templates": [{"templateName": "rate"}], "args": [{"name": "hash", "valueFrom": {"podTemplateHashValue": "Latest"}}]}}, {"setWeight": 60}
    ]))));
    w.template("rate", json!({"args": [{"name": "hash"}], "metrics": [{"name": "rate", "provider": {"web": {"url": "http://x/{{args.hash}}"}}}]}));
    w.settle();
    w.set_image("web:2");
    w.settle();
    w
}

#[test]
fn an_analysis_step_creates_an_argo_named_run_and_waits_for_it() {
    let mut w = with_analysis();
    let hash = w.hash_of_image("web:2");
    let name = format!("web-{hash}-2-1");
    let run = w
        .snap
        .runs
        .iter()
        .find(|r| r.metadata.name.as_deref() == Some(name.as_str()))
        .expect("step run");
    let labels = run.metadata.labels.clone().unwrap();
    assert_eq!(labels["rollout-type"], "Step");
    assert_eq!(labels["step-index"], "1");
    assert_eq!(labels["rollouts-pod-template-hash"], hash);
    assert_eq!(labels["app"], "web");
    assert_eq!(
        run.spec.args[0].value.as_deref(),
        Some(hash.as_str()),
        "podTemplateHashValue: Latest"
    );
    assert_eq!(run.metadata.owner_references.as_ref().unwrap()[0].kind, "Rollout");
    assert_eq!(w.status().current_step_index, Some(1));
    assert_eq!(
        w.phase(),
        (
            Some(RolloutPhase::Progressing),
            "more replicas need to be updated".into()
        )
    );
    w.run_phase(&name, AnalysisPhase::Successful, "");
    w.settle();
    assert_eq!(w.status().current_step_index, Some(3));
    assert_eq!(w.phase().0, Some(RolloutPhase::Healthy));
}

#[test]
fn a_failed_analysis_aborts_back_to_stable_and_retry_starts_over_with_a_new_run() {
    let mut w = with_analysis();
    let name = format!("web-{}-2-1", w.hash_of_image("web:2"));
    w.run_phase(
        &name,
        AnalysisPhase::Failed,
        "Metric \"rate\" assessed Failed due to failed (1) > failureLimit (0)",
    );
    w.settle();
    let status = w.status();
    assert_eq!(status.abort, Some(true));
    assert_eq!(status.aborted_at.as_ref().map(|t| t.0), Some(t0()));
    assert_eq!(status.current_step_index, Some(0));
    assert_eq!(
        w.phase(),
        (
            Some(RolloutPhase::Degraded),
            "RolloutAborted: Rollout aborted update to revision 2: Metric \"rate\" assessed Failed due to failed (1) > failureLimit (0)".into()
        )
    );
    assert_eq!((w.counts("web:2"), w.counts("web:1")), ((0, 0), (10, 10)));
    assert_eq!(
        w.service_hash("web-canary"),
        status.stable_rs,
        "the canary service points back at stable"
    );
    assert!(w.events().iter().any(|e| e.starts_with("RolloutAborted: ")));

    w.patch_status(json!({"abort": false}));
    w.settle();
    let status = w.status();
    assert_eq!(status.abort, None);
    assert_eq!(status.aborted_at, None);
    assert_eq!(status.current_step_index, Some(1), "the steps start over");
    assert!(
        w.snap
            .runs
            .iter()
            .any(|r| r.metadata.name.as_deref() == Some(format!("{name}.1").as_str())),
        "a new run"
    );
}

#[test]
fn an_inconclusive_analysis_pauses_until_promoted() {
    let mut w = with_analysis();
    let name = format!("web-{}-2-1", w.hash_of_image("web:2"));
    w.run_phase(&name, AnalysisPhase::Inconclusive, "");
    w.settle();
    assert_eq!(
        w.status().pause_conditions[0].reason,
        PauseReason::InconclusiveAnalysisRun
    );
    assert_eq!(
        w.phase(),
        (Some(RolloutPhase::Paused), "InconclusiveAnalysisRun".into())
    );
}

#[test]
fn going_back_to_the_stable_template_skips_the_steps() {
    let mut w = with_analysis();
    let name = format!("web-{}-2-1", w.hash_of_image("web:2"));
    w.run_phase(&name, AnalysisPhase::Failed, "bad");
    w.settle();
    let runs = w.snap.runs.len();
    w.set_image("web:1");
    w.settle();
    let status = w.status();
    assert_eq!(status.current_step_index, Some(3));
    assert_eq!(status.abort, None);
    assert_eq!(w.phase().0, Some(RolloutPhase::Healthy));
    assert_eq!(w.snap.runs.len(), runs, "no analysis when fast-tracked");
    assert!(
        w.events()
            .contains(&"SkipSteps: Rollback to stable ReplicaSets".to_string())
    );
}

#[test]
fn promote_full_skips_everything_left() {
    let mut w = World::new(rollout(canary(
        json!([{"setWeight": 20}, {"pause": {}}, {"setWeight": 40}, {"pause": {}}]),
    )));
    w.settle();
    w.set_image("web:2");
    w.settle();
    w.patch_status(json!({"promoteFull": true}));
    w.settle();
    let status = w.status();
    assert_eq!(status.current_step_index, Some(4));
    assert_eq!(status.promote_full, None);
    assert_eq!(status.stable_rs, status.current_pod_hash);
    assert_eq!(w.counts("web:2"), (10, 10));
}

#[test]
fn background_analysis_starts_at_its_starting_step_and_is_terminated_at_promotion() {
    let mut spec = canary(json!([{"setWeight": 20}, {"pause": {}}, {"setWeight": 40}, {"pause": {}}]));
    spec["strategy"]["canary"]["analysis"] = json!({"templates": [{"templateName": "rate"}], "startingStep": 2});
    let mut w = World::new(rollout(spec));
    w.template(
        "rate",
        json!({"metrics": [{"name": "rate", "interval": "5s", "provider": {"web": {"url": "http://x"}}}]}),
    );
    w.settle();
    w.set_image("web:2");
    w.settle();
    assert!(w.snap.runs.is_empty(), "not before step 2");
    w.patch_status(json!({"pauseConditions": null}));
    w.settle();
    let hash = w.hash_of_image("web:2");
    let run = &w.snap.runs[0];
    assert_eq!(run.metadata.name.as_deref(), Some(format!("web-{hash}-2").as_str()));
    assert_eq!(run.metadata.labels.as_ref().unwrap()["rollout-type"], "Background");
    assert_eq!(
        w.status()
            .canary
            .unwrap()
            .current_background_analysis_run_status
            .unwrap()
            .name,
        format!("web-{hash}-2")
    );
    w.patch_status(json!({"pauseConditions": null}));
    w.settle();
    assert_eq!(w.phase().0, Some(RolloutPhase::Healthy));
    assert_eq!(
        w.snap.runs[0].spec.terminate,
        Some(true),
        "a background run ends with the update"
    );
}

#[test]
fn the_progress_deadline_marks_the_rollout_degraded_and_can_abort() {
    for abort in [false, true] {
        let mut spec = canary(json!([{"setWeight": 50}]));
        spec["progressDeadlineSeconds"] = json!(60);
        spec["progressDeadlineAbort"] = json!(abort);
        let mut w = World::new(rollout(spec));
        w.settle();
        w.set_image("web:2");
        // Pods never become ready: after the first passes nothing moves any more.
        for _ in 0..4 {
            w.step();
        }
        let plan = decide(&w.snap);
        let last_progress = w
            .status()
            .conditions
            .iter()
            .find(|c| c.type_ == "Progressing")
            .unwrap()
            .last_update_time
            .clone()
            .unwrap();
        assert_eq!(plan.requeue_at, Some(last_progress.0 + SignedDuration::from_secs(60)));
        w.advance(59);
        w.step();
        assert_eq!(w.phase().0, Some(RolloutPhase::Progressing));
        w.advance(1);
        w.step();
        let (phase, message) = w.phase();
        assert_eq!(phase, Some(RolloutPhase::Degraded));
        assert!(message.starts_with("ProgressDeadlineExceeded: ReplicaSet"), "{message}");
        assert_eq!(w.status().abort == Some(true), abort, "abort: {abort}");
    }
}

#[test]
fn unsupported_and_missing_things_are_an_invalid_spec_not_skipped() {
    let cases = [
        (
            json!([{"experiment": {"templates": []}}]),
            "spec.strategy.canary.steps[0].experiment: not supported yet",
        ),
        (
            json!([{"analysis": {"templates": [{"templateName": "nope"}]}}]),
            "spec.strategy.canary.steps[0].analysis.templates[0].templateName: AnalysisTemplate \"nope\" not found",
        ),
        (json!([{"setWeight": 120}]), "spec.strategy.canary.steps[0].setWeight"),
    ];
    for (steps, expected) in cases {
        let mut w = World::new(rollout(canary(steps)));
        let plan = w.step();
        assert!(plan.actions.is_empty());
        let (phase, message) = w.phase();
        assert_eq!(phase, Some(RolloutPhase::Degraded));
        assert!(
            message.starts_with("InvalidSpec: The Rollout \"web\" is invalid: "),
            "{message}"
        );
        assert!(message.contains(expected), "{message}");
    }
    let mut w = World::new(rollout(canary(json!([{"setWeight": 10}]))));
    w.snap.services.remove("web-canary");
    w.step();
    assert!(
        w.phase()
            .1
            .contains("spec.strategy.canary.canaryService: Service \"web-canary\" not found")
    );
}

fn blue_green(extra: Value) -> World {
    let mut bg = json!({"activeService": "web-active", "previewService": "web-preview", "autoPromotionEnabled": false});
    for (k, v) in extra.as_object().unwrap() {
        bg[k] = v.clone();
    }
    let mut w = World::new(rollout(json!({"replicas": 3, "strategy": {"blueGreen": bg}})));
    w.settle();
    w
}

#[test]
fn blue_green_previews_pauses_switches_and_delays_the_old_scale_down() {
    let mut w = blue_green(json!({}));
    let blue = w.status().stable_rs.unwrap();
    assert_eq!(
        w.service_hash("web-active").as_deref(),
        Some(blue.as_str()),
        "first deploy switches at once"
    );
    w.set_image("web:2");
    w.settle();
    let green = w.hash_of_image("web:2");
    assert_eq!(w.service_hash("web-preview").as_deref(), Some(green.as_str()));
    assert_eq!(w.service_hash("web-active").as_deref(), Some(blue.as_str()));
    assert_eq!(w.phase(), (Some(RolloutPhase::Paused), "BlueGreenPause".into()));
    assert_eq!((w.counts("web:2"), w.counts("web:1")), ((3, 3), (3, 3)));
    w.patch_status(json!({"pauseConditions": null}));
    w.settle();
    assert_eq!(w.service_hash("web-active").as_deref(), Some(green.as_str()));
    assert_eq!(w.status().stable_rs.as_deref(), Some(green.as_str()));
    // The old active ReplicaSet waits 30 s, then goes.
    assert_eq!(w.counts("web:1"), (3, 3));
    let deadline = (t0() + SignedDuration::from_secs(30))
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let old = w
        .snap
        .replicasets
        .iter()
        .find(|rs| hash_of(rs) == Some(blue.as_str()))
        .unwrap();
    assert_eq!(
        old.metadata.annotations.as_ref().unwrap()["scale-down-deadline"],
        deadline
    );
    assert_eq!(decide(&w.snap).requeue_at, Some(t0() + SignedDuration::from_secs(30)));
    w.advance(30);
    w.settle();
    assert_eq!(w.counts("web:1"), (0, 0));
    assert_eq!(w.phase().0, Some(RolloutPhase::Healthy));
}

#[test]
fn blue_green_auto_promotion_seconds_resumes_by_itself() {
    let mut w = blue_green(json!({"autoPromotionEnabled": true, "autoPromotionSeconds": 20}));
    w.set_image("web:2");
    w.settle();
    assert_eq!(w.phase().0, Some(RolloutPhase::Paused));
    assert_eq!(decide(&w.snap).requeue_at, Some(t0() + SignedDuration::from_secs(20)));
    w.advance(20);
    w.settle();
    assert_eq!(
        w.service_hash("web-active").as_deref(),
        Some(w.hash_of_image("web:2").as_str())
    );
}

#[test]
fn blue_green_post_promotion_failure_aborts_the_active_service_back() {
    let bg = json!({"activeService": "web-active", "previewService": "web-preview", "postPromotionAnalysis": {"templates": [{"templateName": "rate"}]}});
    let mut w = World::new(rollout(json!({"replicas": 3, "strategy": {"blueGreen": bg}})));
    w.template(
        "rate",
        json!({"metrics": [{"name": "rate", "provider": {"web": {"url": "http://x"}}}]}),
    );
    w.settle();
    let blue = w.status().stable_rs.unwrap();
    w.set_image("web:2");
    w.settle();
    let green = w.hash_of_image("web:2");
    assert_eq!(w.service_hash("web-active").as_deref(), Some(green.as_str()));
    assert_eq!(
        w.phase(),
        (
            Some(RolloutPhase::Progressing),
            "waiting for analysis to complete".into()
        )
    );
    let post = format!("web-{green}-2-post");
    assert!(
        w.snap
            .runs
            .iter()
            .any(|r| r.metadata.name.as_deref() == Some(post.as_str()))
    );
    w.run_phase(&post, AnalysisPhase::Failed, "bad");
    w.settle();
    assert_eq!(w.service_hash("web-active").as_deref(), Some(blue.as_str()));
    assert_eq!(w.status().stable_rs.as_deref(), Some(blue.as_str()));
    assert_eq!(w.phase().0, Some(RolloutPhase::Degraded));
}

#[test]
fn history_beyond_the_limit_is_deleted() {
    let mut spec = canary(json!([]));
    spec["revisionHistoryLimit"] = json!(1);
    let mut w = World::new(rollout(spec));
    w.settle();
    for image in ["web:2", "web:3", "web:4"] {
        w.set_image(image);
        w.settle();
    }
    let images: Vec<String> = w
        .snap
        .replicasets
        .iter()
        .map(|rs| {
            rs.spec.template.as_ref().unwrap().spec.as_ref().unwrap().containers[0]
                .image
                .clone()
                .unwrap()
        })
        .collect();
    assert_eq!(images, ["web:3", "web:4"], "the current one and one old revision");
}

fn pod(name: &str, created: Timestamp) -> k8s_openapi::api::core::v1::Pod {
    serde_json::from_value(
        json!({"metadata": {"name": name, "namespace": "default", "creationTimestamp": created.to_string()}}),
    )
    .unwrap()
}

#[test]
fn restart_evicts_old_pods_one_batch_at_a_time_then_records_it() {
    let mut spec = canary(json!([]));
    spec["replicas"] = json!(3);
    let mut w = World::new(rollout(spec));
    w.settle();
    w.snap.pods = (0..3).map(|i| pod(&format!("web-{i}"), t0())).collect();
    let at = t0() + SignedDuration::from_secs(10);
    w.snap.rollout.spec.restart_at = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(at));
    let plan = w.step();
    assert!(plan.actions.is_empty(), "not before restartAt");
    assert_eq!(plan.requeue_at, Some(at));
    assert_eq!(
        w.phase(),
        (Some(RolloutPhase::Progressing), "rollout is restarting".into())
    );
    w.advance(10);
    let mut evicted = Vec::new();
    for _ in 0..3 {
        let plan = w.step();
        let batch: Vec<String> = plan
            .actions
            .iter()
            .filter_map(|a| match a {
                Action::EvictPod { name } => Some(name.clone()),
                _ => None,
            })
            .collect();
        // 25% of 3 rounds down to 0: one pod at a time.
        assert_eq!(batch.len(), 1, "{batch:?}");
        assert_eq!(plan.requeue_at, Some(w.snap.now + SignedDuration::from_secs(5)));
        evicted.extend(batch);
        // The replacement pod is new.
        w.snap.pods.push(pod(&format!("new-{}", evicted.len()), w.snap.now));
        w.advance(5);
    }
    assert_eq!(evicted, ["web-0", "web-1", "web-2"]);
    w.step();
    assert_eq!(w.status().restarted_at.map(|t| t.0), Some(at));
    assert_eq!(w.phase().0, Some(RolloutPhase::Healthy));
}

#[test]
fn phase_follows_reference_b8_in_order() {
    let r = rollout(canary(json!([{"setWeight": 10}])));
    let status = |v: Value| -> RolloutStatus { serde_json::from_value(v).unwrap() };
    let cases = [
        (
            json!({"conditions": [{"type": "InvalidSpec", "status": "True", "message": "bad"}]}),
            RolloutPhase::Degraded,
            "InvalidSpec: bad",
        ),
        (
            json!({"conditions": [{"type": "Progressing", "status": "False", "reason": "RolloutAborted", "message": "m"}], "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": "2026-01-01T00:00:00Z"}]}),
            RolloutPhase::Degraded,
            "RolloutAborted: m",
        ),
        (
            json!({"pauseConditions": [{"reason": "CanaryPauseStep", "startTime": "2026-01-01T00:00:00Z"}]}),
            RolloutPhase::Paused,
            "CanaryPauseStep",
        ),
        (
            json!({"updatedReplicas": 3, "availableReplicas": 10, "replicas": 10}),
            RolloutPhase::Progressing,
            "more replicas need to be updated",
        ),
        (
            json!({"updatedReplicas": 10, "availableReplicas": 8, "replicas": 10}),
            RolloutPhase::Progressing,
            "updated replicas are still becoming available",
        ),
        (
            json!({"updatedReplicas": 10, "availableReplicas": 12, "replicas": 12}),
            RolloutPhase::Progressing,
            "old replicas are pending termination",
        ),
        (
            json!({"updatedReplicas": 10, "availableReplicas": 10, "replicas": 10, "currentPodHash": "b", "stableRS": "a"}),
            RolloutPhase::Progressing,
            "waiting for all steps to complete",
        ),
        (
            json!({"updatedReplicas": 10, "availableReplicas": 10, "replicas": 10, "currentPodHash": "a", "stableRS": "a"}),
            RolloutPhase::Healthy,
            "",
        ),
    ];
    for (s, phase, message) in cases {
        assert_eq!(
            super::phase_of(&r, &status(s.clone())),
            (phase, message.to_string()),
            "{s}"
        );
    }
    let mut paused = r.clone();
    paused.spec.paused = Some(true);
    assert_eq!(
        super::phase_of(&paused, &RolloutStatus::default()),
        (RolloutPhase::Paused, "manually paused".into())
    );
}

#[test]
fn replicasets_made_by_another_controller_are_adopted_not_duplicated() {
    let r = rollout(canary(json!([{"setWeight": 20}])));
    // What Argo left behind: same template (with server defaults), a hash this controller would
    // never compute, no owner any more.
    let mut existing = crate::rollout::identity::new_replicaset(&r, "674d8cf959", 10, 3);
    existing.metadata.owner_references = None;
    let mut value = serde_json::to_value(&existing).unwrap();
    value["spec"]["template"]["spec"]["restartPolicy"] = json!("Always");
    value["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = json!("IfNotPresent");
    let existing: k8s_openapi::api::apps::v1::ReplicaSet = serde_json::from_value(value).unwrap();
    let mut w = World::new(r);
    w.snap.replicasets.push(existing);
    w.ready();
    w.settle();
    assert_eq!(w.snap.replicasets.len(), 1, "no second ReplicaSet");
    let rs = &w.snap.replicasets[0];
    assert_eq!(rs.metadata.owner_references.as_ref().unwrap()[0].uid, "uid-web");
    assert_eq!(w.status().stable_rs.as_deref(), Some("674d8cf959"));
    assert_eq!(w.phase().0, Some(RolloutPhase::Healthy));
}

#[test]
fn blue_green_preview_replica_count_runs_a_small_preview_then_full_size_before_the_switch() {
    let mut w = blue_green(json!({"previewReplicaCount": 1}));
    w.set_image("web:2");
    w.settle();
    assert_eq!(w.counts("web:2"), (1, 1), "only the preview pods before promotion");
    assert_eq!(w.phase().0, Some(RolloutPhase::Paused));
    w.patch_status(json!({"pauseConditions": null}));
    w.settle();
    assert_eq!(w.counts("web:2"), (3, 3));
    assert_eq!(
        w.service_hash("web-active").as_deref(),
        Some(w.hash_of_image("web:2").as_str())
    );
    assert_eq!(w.phase().0, Some(RolloutPhase::Healthy));
}

#[test]
fn a_revision_within_the_rollback_window_is_fast_tracked() {
    let mut spec = canary(json!([{"setWeight": 50}, {"pause": {}}]));
    spec["rollbackWindow"] = json!({"revisions": 2});
    let mut w = World::new(rollout(spec));
    w.settle();
    for image in ["web:2", "web:3"] {
        w.set_image(image);
        w.settle();
        w.patch_status(json!({"pauseConditions": null}));
        w.settle();
        assert_eq!(w.phase().0, Some(RolloutPhase::Healthy), "{image}");
    }
    // web:2 is one revision behind the stable web:3: no steps.
    w.set_image("web:2");
    w.settle();
    assert_eq!(w.phase().0, Some(RolloutPhase::Healthy));
    assert_eq!(w.status().current_step_index, Some(2));
    assert_eq!(w.counts("web:2"), (10, 10));
    // Without a window the same rollback runs the steps.
    w.snap.rollout.spec.rollback_window = None;
    w.set_image("web:3");
    w.settle();
    assert_eq!(w.phase().0, Some(RolloutPhase::Paused));
}
