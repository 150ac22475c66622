//! What each command writes (as Argo's `kubectl-argo-rollouts` does), decided from the Rollout alone.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crds::Rollout;
use plugin::patches::{self, Refusal, Target};
use serde_json::{Value, json};

fn rollout(spec: Value, status: Value) -> Rollout {
    let mut full = json!({
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
            "initContainers": [{"name": "init", "image": "init:1"}],
            "containers": [{"name": "web", "image": "web:1"}, {"name": "proxy", "image": "proxy:1"}]}},
        "strategy": {"canary": {"steps": [{"setWeight": 20}, {"pause": {}}, {"analysis": {"templates": [{"templateName": "t"}]}}, {"setWeight": 60}]}},
    });
    for (k, v) in spec.as_object().unwrap() {
        full[k] = v.clone();
    }
    serde_json::from_value(json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "web"}, "spec": full, "status": status})).unwrap()
}

fn updating(extra: Value) -> Value {
    let mut status = json!({"currentPodHash": "new", "stableRS": "old", "currentStepIndex": 1});
    for (k, v) in extra.as_object().unwrap() {
        status[k] = v.clone();
    }
    status
}

#[test]
fn promote_follows_reference_b6() {
    let pause = json!({"pauseConditions": [{"reason": "CanaryPauseStep", "startTime": "2026-01-01T00:00:00Z"}], "controllerPause": true});
    let cases = [
        // Paused by a step: the pause condition goes.
        (
            json!({}),
            updating(pause.clone()),
            vec![(Target::Status, json!({"status": {"pauseConditions": null}}))],
        ),
        // Manually paused too: spec first.
        (
            json!({"paused": true}),
            updating(pause),
            vec![
                (Target::Spec, json!({"spec": {"paused": false}})),
                (Target::Status, json!({"status": {"pauseConditions": null}})),
            ],
        ),
        // Not paused: skip the current step (e.g. a running analysis).
        (
            json!({}),
            updating(json!({"currentStepIndex": 2})),
            vec![(
                Target::Status,
                json!({"status": {"pauseConditions": null, "currentStepIndex": 3}}),
            )],
        ),
        // Inconclusive analysis: also clear controllerPause and move on.
        (
            json!({}),
            updating(
                json!({"currentStepIndex": 2, "pauseConditions": [{"reason": "InconclusiveAnalysisRun", "startTime": "2026-01-01T00:00:00Z"}],
            "canary": {"currentStepAnalysisRunStatus": {"name": "r", "status": "Inconclusive"}}}),
            ),
            vec![(
                Target::Status,
                json!({"status": {"pauseConditions": null, "controllerPause": false, "currentStepIndex": 3}}),
            )],
        ),
    ];
    for (spec, status, expected) in cases {
        let change = patches::promote(&rollout(spec, status.clone()), false).unwrap();
        assert_eq!(change.patches, expected, "{status}");
        assert_eq!(change.said, "rollout 'web' promoted");
    }
    let stable = json!({"currentPodHash": "a", "stableRS": "a", "currentStepIndex": 4});
    assert!(matches!(
        patches::promote(&rollout(json!({}), stable.clone()), false),
        Err(Refusal::NothingToPromote(_))
    ));
    assert!(matches!(
        patches::promote(&rollout(json!({}), stable), true),
        Err(Refusal::NothingToPromote(_))
    ));
    let full = patches::promote(&rollout(json!({"paused": true}), updating(json!({}))), true).unwrap();
    assert_eq!(
        full.patches,
        vec![
            (Target::Spec, json!({"spec": {"paused": false}})),
            (Target::Status, json!({"status": {"promoteFull": true}}))
        ]
    );
}

#[test]
fn abort_retry_pause_and_restart() {
    let r = rollout(json!({}), updating(json!({})));
    assert_eq!(
        patches::abort(&r).unwrap().patches,
        vec![(Target::Status, json!({"status": {"abort": true}}))]
    );
    assert!(matches!(patches::retry(&r), Err(Refusal::NotAborted(_))));
    let aborted = rollout(json!({}), updating(json!({"abort": true})));
    assert!(matches!(patches::abort(&aborted), Err(Refusal::AlreadyAborted(_))));
    assert_eq!(
        patches::retry(&aborted).unwrap().patches,
        vec![(Target::Status, json!({"status": {"abort": false}}))]
    );
    assert_eq!(
        patches::pause(&r).patches,
        vec![(Target::Spec, json!({"spec": {"paused": true}}))]
    );
    let at: jiff::Timestamp = "2026-03-04T05:06:07.8Z".parse().unwrap();
    assert_eq!(
        patches::restart(&r, at).patches,
        vec![(Target::Spec, json!({"spec": {"restartAt": "2026-03-04T05:06:07Z"}}))]
    );
}

#[test]
fn set_image_changes_one_container_or_all() {
    let r = rollout(json!({}), json!({}));
    let images = |change: &patches::Change| -> Vec<String> {
        let template = &change.patches[0].1["spec"]["template"]["spec"];
        ["initContainers", "containers"]
            .iter()
            .flat_map(|l| {
                template[l]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c["image"].as_str().unwrap().to_string())
            })
            .collect()
    };
    assert_eq!(
        images(&patches::set_image(&r, "proxy=proxy:2").unwrap()),
        ["init:1", "web:1", "proxy:2"]
    );
    assert_eq!(
        images(&patches::set_image(&r, "*=all:9").unwrap()),
        ["all:9", "all:9", "all:9"]
    );
    assert_eq!(
        patches::set_image(&r, "db=x").unwrap_err().to_string(),
        "rollout 'web' has no container 'db' (it has: web, proxy, init)"
    );
    assert!(matches!(
        patches::set_image(&r, "web"),
        Err(Refusal::BadImageArgument(_))
    ));
}

#[test]
fn undo_replaces_the_template_with_an_older_revision_without_its_hash_label() {
    let r = rollout(json!({}), json!({}));
    let rs = |revision: i64, image: &str| -> k8s_openapi::api::apps::v1::ReplicaSet {
        serde_json::from_value(json!({
            "metadata": {"name": format!("web-{revision}"), "annotations": {"rollout.argoproj.io/revision": revision.to_string()}},
            "spec": {"selector": {}, "template": {"metadata": {"labels": {"app": "web", "rollouts-pod-template-hash": format!("h{revision}")}},
                "spec": {"containers": [{"name": "web", "image": image}]}}}
        }))
        .unwrap()
    };
    let sets = [rs(1, "web:1"), rs(2, "web:2"), rs(3, "web:3")];
    let change = patches::undo(&r, &sets, None).unwrap();
    assert_eq!(change.said, "rollout 'web' rolled back to revision 2");
    assert_eq!(
        change.patches,
        vec![(
            Target::JsonPatch,
            json!([{"op": "replace", "path": "/spec/template", "value": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "web:2"}]}}}])
        )]
    );
    assert_eq!(
        patches::undo(&r, &sets, Some(1)).unwrap().said,
        "rollout 'web' rolled back to revision 1"
    );
    assert_eq!(
        patches::undo(&r, &sets, Some(7)).unwrap_err().to_string(),
        "rollout 'web' has no revision 7 (it has: 1, 2, 3)"
    );
}
