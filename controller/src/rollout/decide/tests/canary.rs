//! The canary strategy: weights, pauses, analysis steps, background analysis, abort and retry,
//! rollback, the progress deadline, and what is refused.

use super::*;

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
        // The new counts wait while the new ReplicaSet is short of pods, for at most the lag.
        assert!(w.plans.last().unwrap().hold_status);
        w.advance(5);
        w.step();
        assert!(!w.plans.last().unwrap().hold_status);
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

/// A template (or route) that could not be read (403, 5xx, timeout) is not a missing one: nothing
/// is decided, the stored status stays as it is, and no InvalidSpec is written. The same template
/// absent (404) is an InvalidSpec, as the case above shows.
#[test]
fn a_template_that_cannot_be_read_decides_nothing() {
    let mut w = with_analysis();
    let before = w.status();
    w.snap.templates.clear();
    w.snap.unreadable.push(crate::read::Unreadable {
        what: "AnalysisTemplate default/rate".into(),
        reason: "the server answered 503".into(),
    });
    let plan = w.step();
    assert!(plan.actions.is_empty(), "{:?}", plan.actions);
    assert_eq!(plan.status, before);
    assert_eq!(plan.undecided.len(), 1);
    // Read again: the same world decides as before, without the template it is an InvalidSpec.
    w.snap.unreadable.clear();
    w.step();
    assert!(
        w.phase().1.contains("AnalysisTemplate \"rate\" not found"),
        "{:?}",
        w.phase()
    );
}
