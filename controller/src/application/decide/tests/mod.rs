//! The Application decision on data alone: automated sync, self-heal, waves, hooks, failure and
//! retry, project rules, comparison errors, the finalizer, and an idle Application writing nothing.

use crds::gitops::{ApplicationStatus, OperationState, StoredApplication};
use jiff::Timestamp;
use serde_json::{Value, json};

use super::super::compare::Compared;
use super::super::context::SelfHeal;
use super::super::plan::{Action, Decision};
use super::super::snapshot::{ClusterRef, Observed, Resource, Snapshot, Unobserved};
use super::*;

mod clusters;
mod revert;

pub(super) const REV: &str = "1111111111111111111111111111111111111111";
pub(super) const NEWER: &str = "2222222222222222222222222222222222222222";

pub(super) fn now() -> Timestamp {
    "2026-12-02T12:00:00Z".parse().unwrap_or_default()
}

pub(super) fn app(policy: Value, status: Value) -> StoredApplication {
    serde_json::from_value(json!({
        "metadata": {"name": "shop", "namespace": "argocd", "uid": "u1", "resourceVersion": "1"},
        "spec": {
            "source": {"repoURL": "git://git.example/apps.git", "path": "shop", "targetRevision": "main"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "shop"},
            "syncPolicy": policy,
        },
        "status": status,
    }))
    .unwrap_or_default()
}

pub(super) fn cm(name: &str, wave: i64) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": name, "namespace": "shop", "annotations": {"argocd.argoproj.io/sync-wave": wave.to_string()}}})
}

pub(super) fn deployment(name: &str, wave: i64, ready: bool) -> Value {
    let available = if ready { 1 } else { 0 };
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": name, "namespace": "shop", "generation": 1, "annotations": {"argocd.argoproj.io/sync-wave": wave.to_string()}},
           "spec": {"replicas": 1},
           "status": {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "availableReplicas": available, "readyReplicas": available}})
}

pub(super) fn resource(desired: Value, live: Option<Value>, compared: Compared) -> Resource {
    Resource {
        desired,
        live,
        compared,
        namespaced: true,
        served: true,
    }
}

pub(super) fn synced(object: Value) -> Resource {
    resource(object.clone(), Some(object), Compared::Synced)
}

pub(super) fn missing(object: Value) -> Resource {
    resource(object, None, Compared::Missing)
}

pub(super) fn snapshot(app: StoredApplication, resources: Vec<Resource>) -> Snapshot {
    Snapshot {
        app,
        now: now(),
        project: Ok(gitops::project::default_project()),
        source: Ok(Observed {
            revision: REV.into(),
            source_type: "Directory",
            resources,
            hooks: Vec::new(),
        }),
        extra: Vec::new(),
        live_hooks: Vec::new(),
        self_heal: SelfHeal::default(),
        namespace: "shop".into(),
        cluster: Ok(ClusterRef {
            server: "https://kubernetes.default.svc".into(),
            name: "in-cluster".into(),
            unreachable: None,
        }),
        auto_revert: false,
        revert: None,
    }
}

pub(super) fn applied(d: &Decision) -> Vec<String> {
    d.actions
        .iter()
        .filter_map(|a| match a {
            Action::Apply { desired, .. } => desired
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .map(str::to_owned),
            _ => None,
        })
        .collect()
}

pub(super) fn phase(d: &Decision) -> Option<&str> {
    d.status.operation_state.as_ref().map(|o| o.phase.as_str())
}

/// Carries the decision's status into the next snapshot, as the status write would.
pub(super) fn next(snap: &Snapshot, d: &Decision) -> Snapshot {
    let mut s = snap.clone();
    s.app.status = Some(d.status.clone());
    s.app.operation = None;
    s
}

#[test]
fn automated_sync_starts_only_when_out_of_sync_and_once_per_revision() {
    let auto = json!({"automated": {"prune": true}});
    let table: Vec<(&str, Snapshot, Option<&str>)> = vec![
        (
            "out of sync: a sync starts",
            snapshot(app(auto.clone(), json!(null)), vec![missing(cm("a", 0))]),
            Some("Running"),
        ),
        (
            "synced: nothing to do",
            snapshot(app(auto.clone(), json!(null)), vec![synced(cm("a", 0))]),
            None,
        ),
        (
            "no automated policy: reported only",
            snapshot(app(json!({}), json!(null)), vec![missing(cm("a", 0))]),
            None,
        ),
        (
            "already attempted and failed at this revision",
            snapshot(
                app(
                    auto.clone(),
                    json!({"operationState": {"phase": "Failed", "syncResult": {"revision": REV, "source": {"repoURL": "git://git.example/apps.git", "path": "shop", "targetRevision": "main"}}}}),
                ),
                vec![missing(cm("a", 0))],
            ),
            Some("Failed"),
        ),
    ];
    for (name, snap, want) in table {
        let d = decide(&snap);
        assert_eq!(phase(&d), want, "{name}");
    }
    let d = decide(&snapshot(app(auto, json!(null)), vec![missing(cm("a", 0))]));
    let op = d.status.operation_state.clone().unwrap_or_default();
    let operation = op.operation.unwrap_or_default();
    assert_eq!(operation.initiated_by.and_then(|i| i.automated), Some(true));
    assert_eq!(operation.sync.and_then(|s| s.revision).as_deref(), Some(REV));
    assert_eq!(applied(&d), ["a"], "the first wave is applied in the same reconcile");
}

#[test]
fn waves_run_in_order_and_each_waits_for_health() {
    let snap = snapshot(
        app(json!({"automated": {}}), json!(null)),
        vec![
            missing(cm("config", 0)),
            missing(deployment("web", 1, true)),
            missing(cm("late", 2)),
        ],
    );
    let first = decide(&snap);
    assert_eq!(applied(&first), ["config"]);
    // The ConfigMap is applied and synced: wave 1 goes.
    let mut s2 = next(&snap, &first);
    if let Ok(o) = s2.source.as_mut() {
        o.resources[0] = synced(cm("config", 0));
    }
    let second = decide(&s2);
    assert_eq!(applied(&second), ["web"]);
    // The Deployment exists but is not available yet: wave 2 waits.
    let mut s3 = next(&s2, &second);
    if let Ok(o) = s3.source.as_mut() {
        o.resources[1] = synced(deployment("web", 1, false));
    }
    let third = decide(&s3);
    assert!(applied(&third).is_empty());
    let message = third
        .status
        .operation_state
        .as_ref()
        .and_then(|o| o.message.clone())
        .unwrap_or_default();
    assert!(
        message.starts_with("waiting for healthy state of Deployment/web"),
        "{message}"
    );
    // Available: the last wave, then the operation succeeds.
    let mut s4 = next(&s3, &third);
    if let Ok(o) = s4.source.as_mut() {
        o.resources[1] = synced(deployment("web", 1, true));
    }
    let fourth = decide(&s4);
    assert_eq!(applied(&fourth), ["late"]);
    let mut s5 = next(&s4, &fourth);
    if let Ok(o) = s5.source.as_mut() {
        o.resources[2] = synced(cm("late", 2));
    }
    let done = decide(&s5);
    assert_eq!(phase(&done), Some("Succeeded"));
    assert_eq!(done.status.history.len(), 1);
    assert_eq!(done.status.history[0].revision, REV);
}

#[test]
fn a_degraded_resource_fails_the_sync_and_retry_schedules_another_attempt() {
    let mut broken = deployment("web", 0, false);
    broken["status"]["conditions"] = json!([{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "too slow"}]);
    let running = json!({"operationState": {"phase": "Running", "startedAt": "2026-12-02T11:59:00Z", "retryCount": 0,
        "operation": {"sync": {"revision": REV}, "initiatedBy": {"automated": true}},
        "syncResult": {"revision": REV, "resources": [{"group": "apps", "version": "v1", "kind": "Deployment", "namespace": "shop", "name": "web", "status": "Synced", "syncPhase": "Sync"}]}}});
    let without_retry = decide(&snapshot(
        app(json!({"automated": {}}), running.clone()),
        vec![synced(broken.clone())],
    ));
    assert_eq!(phase(&without_retry), Some("Failed"));
    let message = without_retry
        .status
        .operation_state
        .as_ref()
        .and_then(|o| o.message.clone())
        .unwrap_or_default();
    assert!(message.starts_with("Deployment/web is Degraded"), "{message}");
    let retry = json!({"automated": {}, "retry": {"limit": 2, "backoff": {"duration": "10s", "factor": 2}}});
    let with_retry = decide(&snapshot(app(retry, running), vec![synced(broken)]));
    let state: OperationState = with_retry.status.operation_state.clone().unwrap_or_default();
    assert_eq!((state.phase.as_str(), state.retry_count), ("Running", Some(1)));
    assert_eq!(with_retry.requeue_at, Some(now() + jiff::SignedDuration::from_secs(10)));
}

#[test]
fn a_newer_commit_supersedes_a_retrying_automated_sync() {
    let retrying = json!({"operationState": {"phase": "Running", "retryCount": 2, "finishedAt": "2026-12-02T11:59:59Z",
        "operation": {"sync": {"revision": REV}, "initiatedBy": {"automated": true}}, "syncResult": {"revision": REV}}});
    let mut snap = snapshot(
        app(json!({"automated": {}, "retry": {"limit": -1}}), retrying),
        vec![missing(cm("a", 0))],
    );
    if let Ok(o) = snap.source.as_mut() {
        o.revision = NEWER.into();
    }
    let d = decide(&snap);
    let state = d.status.operation_state.clone().unwrap_or_default();
    assert_eq!(state.sync_result.map(|r| r.revision).as_deref(), Some(NEWER));
    assert_eq!((state.phase.as_str(), state.retry_count), ("Running", Some(0)));
    assert!(d.events.iter().any(|e| e.reason == "OperationSuperseded"));
}

#[test]
fn self_heal_resyncs_drift_with_backoff() {
    let succeeded = json!({"operationState": {"phase": "Succeeded", "syncResult": {"revision": REV, "source": {"repoURL": "git://git.example/apps.git", "path": "shop", "targetRevision": "main"}}}});
    let drifted = vec![resource(
        cm("a", 0),
        Some(cm("a", 0)),
        Compared::OutOfSync(vec!["/data".into()]),
    )];
    let heal = json!({"automated": {"selfHeal": true}});
    let no_heal = decide(&snapshot(
        app(json!({"automated": {}}), succeeded.clone()),
        drifted.clone(),
    ));
    assert_eq!(
        phase(&no_heal),
        Some("Succeeded"),
        "without selfHeal drift is only reported"
    );
    let first = decide(&snapshot(app(heal.clone(), succeeded.clone()), drifted.clone()));
    assert_eq!(phase(&first), Some("Running"));
    assert!(first.actions.iter().any(|a| matches!(a, Action::RecordSelfHeal { .. })));
    let mut again = snapshot(app(heal, succeeded), drifted);
    again.self_heal = SelfHeal {
        revision: REV.into(),
        attempts: 2,
        last: Some(now() - jiff::SignedDuration::from_secs(1)),
    };
    let backing_off = decide(&again);
    assert_eq!(
        phase(&backing_off),
        Some("Succeeded"),
        "the third heal waits 6 s after the second"
    );
    assert_eq!(backing_off.requeue_at, Some(now() + jiff::SignedDuration::from_secs(5)));
}

#[test]
fn an_empty_render_never_prunes_everything_unless_allowed() {
    let mut snap = snapshot(app(json!({"automated": {"prune": true}}), json!(null)), vec![]);
    snap.extra = vec![cm("old", 0)];
    let refused = decide(&snap);
    assert_eq!(phase(&refused), None);
    assert!(
        refused
            .status
            .conditions
            .iter()
            .any(|c| c.type_ == "SyncError" && c.message.contains("allowEmpty"))
    );
    snap.app.spec.sync_policy = serde_json::from_value(json!({"automated": {"prune": true, "allowEmpty": true}})).ok();
    let allowed = decide(&snap);
    assert!(
        allowed.actions.iter().any(|a| matches!(a, Action::Delete { .. })),
        "{:?}",
        allowed.actions
    );
}

#[test]
fn invalid_specs_and_comparison_errors_apply_nothing() {
    let mut forbidden = snapshot(app(json!({"automated": {}}), json!(null)), vec![missing(cm("a", 0))]);
    forbidden.project = Ok(serde_json::from_value(
        json!({"sourceRepos": ["https://other.example/*"], "destinations": [{"server": "*", "namespace": "*"}]}),
    )
    .unwrap());
    let d = decide(&forbidden);
    assert!(d.actions.is_empty());
    let message = d
        .status
        .conditions
        .iter()
        .find(|c| c.type_ == "InvalidSpecError")
        .map(|c| c.message.clone())
        .unwrap_or_default();
    assert_eq!(
        message,
        "application repo git://git.example/apps.git is not permitted in project 'default' (spec.sourceRepos)"
    );
    let mut broken = snapshot(app(json!({"automated": {}}), json!(null)), vec![]);
    broken.source = Err(Unobserved::Invalid("app/a.yaml:3: did not find expected key".into()));
    let d = decide(&broken);
    assert!(d.actions.is_empty());
    assert_eq!(d.status.sync.map(|s| s.status).as_deref(), Some("Unknown"));
    assert!(
        d.status
            .conditions
            .iter()
            .any(|c| c.type_ == "ComparisonError" && c.message.starts_with("app/a.yaml:3"))
    );
}

#[test]
fn deleting_with_the_finalizer_deletes_resources_then_lets_go() {
    let mut snap = snapshot(app(json!({}), json!(null)), vec![]);
    snap.app.metadata.deletion_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(now()));
    snap.app.metadata.finalizers = Some(vec!["resources-finalizer.argocd.argoproj.io".into()]);
    snap.source = Err(Unobserved::Skipped);
    let mut kept = cm("kept", 0);
    kept["metadata"]["annotations"]["argocd.argoproj.io/sync-options"] = json!("Delete=false");
    snap.extra = vec![cm("a", 0), kept];
    let d = decide(&snap);
    assert_eq!(
        d.actions.iter().filter(|a| matches!(a, Action::Delete { .. })).count(),
        1,
        "Delete=false is left"
    );
    assert!(!d.actions.contains(&Action::RemoveFinalizer));
    snap.extra.remove(0);
    assert!(decide(&snap).actions.contains(&Action::RemoveFinalizer));
}

#[test]
fn a_paused_canary_lets_later_waves_go_and_holds_postsync() {
    let paused = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
        "metadata": {"name": "api", "namespace": "shop", "generation": 2},
        "status": {"observedGeneration": "2", "phase": "Paused", "message": "CanaryPauseStep", "pauseConditions": [{"reason": "CanaryPauseStep"}]}});
    let hook = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"generateName": "smoke-", "namespace": "shop",
        "annotations": {"argocd.argoproj.io/hook": "PostSync"}}});
    let mut snap = snapshot(
        app(
            json!({"automated": {}}),
            json!({"operationState": {"phase": "Running", "operation": {"sync": {"revision": REV}, "initiatedBy": {"automated": true}},
            "syncResult": {"revision": REV, "resources": [{"group": "argoproj.io", "version": "v1alpha1", "kind": "Rollout", "namespace": "shop", "name": "api", "status": "Synced", "syncPhase": "Sync"}]}}}),
        ),
        vec![synced(paused), missing(cm("after", 1))],
    );
    if let Ok(o) = snap.source.as_mut() {
        o.hooks = vec![hook];
    }
    let d = decide(&snap);
    assert_eq!(applied(&d), ["after"], "the Suspended Rollout does not block wave 1");
    let mut s2 = next(&snap, &d);
    if let Ok(o) = s2.source.as_mut() {
        o.resources[1] = synced(cm("after", 1));
    }
    let held = decide(&s2);
    assert!(
        !held.actions.iter().any(|a| matches!(a, Action::CreateHook { .. })),
        "{:?}",
        held.actions
    );
    let message = held
        .status
        .operation_state
        .as_ref()
        .and_then(|o| o.message.clone())
        .unwrap_or_default();
    assert_eq!(message, "waiting for Rollout api to be fully promoted before PostSync");
}

#[test]
fn an_idle_application_decides_the_same_status_again() {
    let mut snap = snapshot(app(json!({"automated": {}}), json!(null)), vec![synced(cm("a", 0))]);
    assert!(
        decide(&snap).actions.is_empty(),
        "without auto-revert no known-good revision is recorded"
    );
    snap.auto_revert = true;
    let first = decide(&snap);
    assert!(
        first.actions.contains(&Action::MarkHealthy { revision: REV.into() }),
        "a Synced and Healthy revision becomes the known-good one"
    );
    let mut later = next(&snap, &first);
    later.app.metadata.annotations =
        Some([(super::revert::HEALTHY_REVISION_ANNOTATION.to_owned(), REV.to_owned())].into());
    later.now = now() + jiff::SignedDuration::from_secs(600);
    let second = decide(&later);
    assert_eq!(
        second.status, first.status,
        "nothing changed, so nothing is written (reconciledAt included)"
    );
    assert!(second.actions.is_empty());
    let _: ApplicationStatus = second.status;
}

#[test]
fn sync_options_shape_the_applies() {
    let options = |opts: Value| json!({"automated": {"prune": true}, "syncOptions": opts});
    // FailOnSharedResource: a live object tracked by another Application fails the sync.
    let mut theirs = cm("shared", 0);
    theirs["metadata"]["annotations"]["argocd.argoproj.io/tracking-id"] = json!("other:/ConfigMap:shop/shared");
    let mut desired = cm("shared", 0);
    desired["data"] = json!({"k": "v"});
    let shared = vec![resource(
        desired.clone(),
        Some(theirs.clone()),
        Compared::OutOfSync(vec!["/data".into()]),
    )];
    let failed = decide(&snapshot(
        app(options(json!(["FailOnSharedResource=true"])), json!(null)),
        shared.clone(),
    ));
    assert_eq!(phase(&failed), Some("Failed"));
    let taken = decide(&snapshot(app(options(json!([])), json!(null)), shared));
    assert_eq!(
        applied(&taken),
        ["shared"],
        "without the option the resource is taken over"
    );
    // Validate=false and Replace=true reach the apply.
    let d = decide(&snapshot(
        app(options(json!(["Validate=false", "Replace=true"])), json!(null)),
        vec![missing(cm("a", 0))],
    ));
    assert!(
        matches!(
            d.actions.first(),
            Some(Action::Apply {
                replace: true,
                validate: false,
                ..
            })
        ),
        "{:?}",
        d.actions
    );
    // RespectIgnoreDifferences: the ignored field keeps its live value.
    let mut snap = snapshot(
        app(options(json!(["RespectIgnoreDifferences=true"])), json!(null)),
        vec![],
    );
    snap.app.spec.ignore_differences =
        serde_json::from_value(json!([{"kind": "ConfigMap", "jsonPointers": ["/data/k"]}])).unwrap_or_default();
    let mut live = cm("a", 0);
    live["data"] = json!({"k": "live", "other": "x"});
    let mut wanted = cm("a", 0);
    wanted["data"] = json!({"k": "git", "other": "y"});
    if let Ok(o) = snap.source.as_mut() {
        o.resources = vec![resource(
            wanted,
            Some(live),
            Compared::OutOfSync(vec!["/data/other".into()]),
        )];
    }
    let d = decide(&snap);
    let Some(Action::Apply { desired, .. }) = d.actions.first() else {
        unreachable!("{:?}", d.actions)
    };
    assert_eq!(desired["data"], json!({"k": "live", "other": "y"}));
    // Prune=confirm waits for the deletion-approved annotation.
    let mut confirm = cm("old", 0);
    confirm["metadata"]["annotations"]["argocd.argoproj.io/sync-options"] = json!("Prune=confirm");
    let mut snap = snapshot(app(options(json!([])), json!(null)), vec![missing(cm("a", 0))]);
    snap.extra = vec![confirm];
    assert!(!decide(&snap).actions.iter().any(|a| matches!(a, Action::Delete { .. })));
    snap.app.metadata.annotations = Some(
        [(
            "argocd.argoproj.io/deletion-approved".to_owned(),
            "2026-12-02".to_owned(),
        )]
        .into(),
    );
    assert!(decide(&snap).actions.iter().any(|a| matches!(a, Action::Delete { .. })));
}

#[test]
fn a_refresh_annotation_is_cleared_and_stamps_the_comparison() {
    let mut snap = snapshot(app(json!({}), json!(null)), vec![synced(cm("a", 0))]);
    let first = decide(&snap);
    snap.app.status = Some(first.status.clone());
    snap.now = now() + jiff::SignedDuration::from_secs(60);
    snap.app.metadata.annotations = Some([("argocd.argoproj.io/refresh".to_owned(), "normal".to_owned())].into());
    let d = decide(&snap);
    assert!(d.actions.contains(&Action::ClearRefresh));
    assert_ne!(
        d.status.reconciled_at, first.status.reconciled_at,
        "a refresh is a new comparison"
    );
}

#[test]
fn a_hook_created_but_not_recorded_is_adopted_not_created_again() {
    let started = "2026-12-02T11:59:00Z";
    let hook = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"generateName": "smoke-", "namespace": "shop",
        "annotations": {"argocd.argoproj.io/hook": "PostSync"}}});
    let status = json!({"operationState": {"phase": "Running", "startedAt": started, "operation": {"sync": {"revision": REV}},
        "syncResult": {"revision": REV, "resources": [{"group": "", "version": "v1", "kind": "ConfigMap", "namespace": "shop", "name": "a", "status": "Synced", "syncPhase": "Sync"}]}}});
    let mut snap = snapshot(app(json!({}), status), vec![synced(cm("a", 0))]);
    if let Ok(o) = snap.source.as_mut() {
        o.hooks = vec![hook];
    }
    let first = decide(&snap);
    let Some(Action::CreateHook { hook: created }) =
        first.actions.iter().find(|a| matches!(a, Action::CreateHook { .. }))
    else {
        unreachable!("{:?}", first.actions)
    };
    let id = created["metadata"]["annotations"][super::operation::OPERATION_ANNOTATION].clone();
    assert_eq!(id, json!(format!("{started}/{REV}")));
    // The status write after the creation was lost: the live hook carries the operation, so it is adopted.
    let mut live = created.clone();
    live["metadata"]["name"] = json!("smoke-x7k2p");
    live["status"] = json!({"conditions": [{"type": "Complete", "status": "True"}]});
    snap.live_hooks = vec![live];
    let again = decide(&snap);
    assert!(
        !again.actions.iter().any(|a| matches!(a, Action::CreateHook { .. })),
        "{:?}",
        again.actions
    );
    assert_eq!(phase(&again), Some("Succeeded"));
}

#[test]
fn a_requested_operation_left_behind_by_a_conflict_is_cleared_not_run_twice() {
    let requested: crds::gitops::Operation =
        serde_json::from_value(json!({"sync": {"prune": true}, "initiatedBy": {"username": "ana"}}))
            .unwrap_or_default();
    let mut first = snapshot(app(json!(null), json!({})), vec![missing(cm("settings", 0))]);
    first.app.operation = Some(requested.clone());
    let started = decide(&first);
    assert_eq!(phase(&started), Some("Running"));
    assert!(started.clear_operation);
    // The clearing patch conflicted: the next look still carries the field beside the running state.
    let mut again = next(&first, &started);
    again.app.operation = Some(requested.clone());
    let carried = decide(&again);
    assert!(carried.clear_operation, "the running operation's request is cleared");
    assert!(!carried.events.iter().any(|e| e.reason == "OperationStarted"));
    // A different request made while one runs waits for it instead of being dropped.
    let mut other = next(&first, &started);
    other.app.operation = Some(crds::gitops::Operation {
        initiated_by: requested.initiated_by.clone(),
        ..crds::gitops::Operation::default()
    });
    assert!(!decide(&other).clear_operation);
}
