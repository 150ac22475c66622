//! Auto-revert in the Application decision on data alone: a Degraded Rollout is reverted and its
//! template recorded; the same template pushed again is held out of automated syncs; a manual sync
//! lets it in.

use serde_json::{Value, json};

use super::super::super::compare::Compared;
use super::super::super::plan::{Action, Decision};
use super::super::super::snapshot::{RevertInputs, Snapshot};
use super::super::revert::HEALTHY_REVISION_ANNOTATION;
use super::super::*;
use super::{NEWER, REV, app, missing, phase, resource, snapshot, synced};

const BAD: &str = "3333333333333333333333333333333333333333";

fn rollout(image: &str, degraded: bool) -> Value {
    let status = if degraded {
        json!({"observedGeneration": "2", "phase": "Degraded", "message": "RolloutAborted: Metric \"smoke\" assessed Failed", "abort": true})
    } else {
        json!({"observedGeneration": "2", "phase": "Healthy"})
    };
    json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "api", "namespace": "shop", "generation": 2},
           "spec": {"template": {"metadata": {"labels": {"app": "api"}}, "spec": {"containers": [{"name": "api", "image": image}]}}},
           "status": status})
}

fn annotated(mut snap: Snapshot, annotations: &[(&str, &str)]) -> Snapshot {
    snap.app.metadata.annotations = Some(
        annotations
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    );
    snap
}

fn at(mut snap: Snapshot, revision: &str) -> Snapshot {
    if let Ok(o) = snap.source.as_mut() {
        o.revision = revision.into();
    }
    snap
}

fn keep_out(d: &Decision) -> Option<&str> {
    d.actions.iter().find_map(|a| match a {
        Action::KeepOut { annotation } => Some(annotation.as_str()),
        _ => None,
    })
}

fn condition<'a>(d: &'a Decision, type_: &str) -> Option<&'a str> {
    d.status
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
        .map(|c| c.message.as_str())
}

/// Degraded at BAD (an aborted canary) after syncing `commits` since the known-good REV.
fn degraded(commits: &[(&str, &str)], squash: bool) -> Snapshot {
    let synced_at_bad = json!({"sync": {"status": "Synced", "revision": BAD},
        "operationState": {"phase": "Succeeded", "finishedAt": "2026-12-02T11:59:00Z",
            "syncResult": {"revision": BAD, "source": {"repoURL": "git://git.example/apps.git", "path": "shop", "targetRevision": "main"}}}});
    let mut degraded = snapshot(
        app(json!({"automated": {}}), synced_at_bad),
        vec![synced(rollout("api:2", true))],
    );
    degraded.auto_revert = true;
    degraded.revert = Some(RevertInputs {
        known_good: Some(REV.into()),
        commits: commits
            .iter()
            .map(|(sha, subject)| gitops::revert::Commit {
                sha: (*sha).into(),
                subject: (*subject).into(),
                paths: vec!["shop/rollout.yaml".into()],
                reverts: None,
            })
            .collect(),
        recent: (0, 3),
        branch: Some("main".into()),
        squash,
        ..RevertInputs::default()
    });
    annotated(at(degraded, BAD), &[(HEALTHY_REVISION_ANNOTATION, REV)])
}

#[test]
fn revert_squash_makes_one_commit_of_several_culprits() {
    let squashed = |d: &Decision| {
        d.actions.iter().find_map(|a| match a {
            Action::Revert { reverts, squash, .. } => Some((reverts.len(), squash.clone())),
            _ => None,
        })
    };
    let two = [(BAD, "api 2"), (NEWER, "api 2 config")];
    let (count, message) = squashed(&decide(&degraded(&two, true))).unwrap_or_default();
    assert_eq!(count, 2);
    assert!(
        message.is_some_and(|m| m.starts_with("Revert 2 commits that made argocd/shop Degraded")),
        "one message for both"
    );
    assert_eq!(squashed(&decide(&degraded(&two, false))).map(|s| s.1), Some(None));
    assert_eq!(
        squashed(&decide(&degraded(&two[..1], true))).map(|s| s.1),
        Some(None),
        "one culprit is one plain revert"
    );
}

#[test]
fn a_reverted_template_pushed_again_is_held_out_until_a_manual_sync() {
    let reverting = decide(&degraded(&[(BAD, "api 2")], false));
    assert!(
        reverting.actions.iter().any(|a| matches!(a, Action::Revert { .. })),
        "{:?} {:?}",
        reverting.status,
        reverting.events
    );
    let recorded = keep_out(&reverting).unwrap_or_default().to_owned();
    assert!(
        recorded.contains("argoproj.io/Rollout/shop/api") && recorded.contains(BAD),
        "{recorded}"
    );

    // A later commit (NEWER) brings api:2 back: the automated sync holds it out.
    let live_good = rollout("api:1", false);
    let again = resource(
        rollout("api:2", false),
        Some(live_good.clone()),
        Compared::OutOfSync(vec!["/spec/template".into()]),
    );
    let back = annotated(
        at(
            snapshot(app(json!({"automated": {}}), json!({})), vec![again.clone()]),
            NEWER,
        ),
        &[(gitops::revert::keep_out::REVERTED_TEMPLATES_ANNOTATION, &recorded)],
    );
    let held = decide(&back);
    assert_eq!(phase(&held), None, "no sync starts");
    assert!(held.actions.iter().all(|a| !a.acts()), "{:?}", held.actions);
    let message = condition(&held, "RevertedChangeBlocked").unwrap_or_default();
    assert!(
        message.contains("3333333") && message.contains("--allow-reverted"),
        "{message}"
    );
    assert!(held.events.iter().any(|e| e.reason == "RevertedChangeBlocked"));

    // A changed template is not held out.
    let changed = resource(rollout("api:3", false), Some(live_good), Compared::OutOfSync(vec![]));
    let mut fixed = back.clone();
    if let Ok(o) = fixed.source.as_mut() {
        o.resources = vec![changed];
    }
    assert_eq!(phase(&decide(&fixed)), Some("Running"));

    // A manual sync deploys it, and it is no longer kept out.
    let mut manual = back;
    manual.app.operation = Some(crds::gitops::Operation {
        initiated_by: Some(crds::gitops::OperationInitiator {
            username: Some("ana".into()),
            automated: None,
        }),
        ..crds::gitops::Operation::default()
    });
    let let_in = decide(&manual);
    assert_eq!(phase(&let_in), Some("Running"));
    assert_eq!(keep_out(&let_in), Some("[]"));
    assert!(condition(&let_in, "RevertedChangeBlocked").is_none());
    let _ = missing;
}

#[test]
fn a_revert_left_aside_is_a_condition_and_keeps_nothing_out() {
    let snap = degraded(&[(BAD, "api 2")], false);
    let mut reverting = decide(&snap);
    assert!(keep_out(&reverting).is_some());
    let outcome = super::super::super::plan::Outcome {
        revert: Some((
            false,
            "the revert conflicts with later commits; the revert is on branch sluice/revert-333333333333 for a pull request".into(),
        )),
        ..super::super::super::plan::Outcome::default()
    };
    let _ = settle(&snap, &mut reverting, &outcome);
    assert!(keep_out(&reverting).is_none(), "nothing was reverted on the branch");
    let message = condition(&reverting, "RevertFailed").unwrap_or_default();
    assert!(message.contains("sluice/revert-333333333333"), "{message}");
    assert!(reverting.events.iter().any(|e| e.reason == "RevertFailed" && e.warning));
}
