//! The ApplicationSet decision over snapshots: what is created, updated and deleted under each
//! `applicationsSync` policy, and the conditions Argo reports.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use crds::gitops::{ApplicationSet, StoredApplication};
use gitops::appset::{GeneratorError, Inputs, parameters};
use serde_json::{Value, json};

use super::super::plan::Action;
use super::super::snapshot::Snapshot;
use super::{APPSET_LABEL, decide, settle};

fn appset(elements: Value, sync_policy: Option<Value>) -> ApplicationSet {
    let mut set = json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationSet",
        "metadata": {"name": "microservices", "namespace": "argocd", "uid": "set-uid"},
        "spec": {
            "generators": [{"list": {"elements": elements}}],
            "template": {
                "metadata": {"name": "{{service}}"},
                "spec": {
                    "project": "default",
                    "source": {"repoURL": "https://git.example/config", "path": "apps/{{service}}", "targetRevision": "main"},
                    "destination": {"server": "https://kubernetes.default.svc", "namespace": "{{service}}"}
                }
            }
        }
    });
    if let Some(policy) = sync_policy {
        set["spec"]["syncPolicy"] = policy;
    }
    serde_json::from_value(set).unwrap()
}

fn snapshot(set: ApplicationSet, owned: Vec<StoredApplication>) -> Snapshot {
    Snapshot {
        generated: parameters(&set.spec, &Inputs::default()),
        appset: set,
        now: "2026-12-03T10:00:00Z".parse().unwrap(),
        owned,
        foreign: BTreeSet::new(),
        projects: ["default".to_owned()].into(),
    }
}

fn services(names: &[&str]) -> Value {
    Value::Array(names.iter().map(|n| json!({"service": n})).collect())
}

/// The Application the set applied for `service`, as the cluster holds it afterwards.
fn live(set: &ApplicationSet, service: &str) -> StoredApplication {
    let decision = decide(&snapshot(set.clone(), Vec::new()));
    let object = decision
        .actions
        .iter()
        .find_map(|a| match a {
            Action::Apply { name, object, .. } if name == service => Some(object.clone()),
            _ => None,
        })
        .unwrap();
    serde_json::from_value(object).unwrap()
}

fn summary(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .map(|a| match a {
            Action::Apply { name, create: true, .. } => format!("create {name}"),
            Action::Apply { name, .. } => format!("update {name}"),
            Action::Delete { name, strip_finalizer } => format!("delete {name} strip={strip_finalizer}"),
        })
        .collect()
}

fn condition<'a>(status: &'a crds::gitops::ApplicationSetStatus, type_: &str) -> &'a Value {
    status.conditions.iter().find(|c| c["type"] == type_).unwrap()
}

#[test]
fn each_element_becomes_an_owned_application() {
    let set = appset(services(&["api", "worker"]), None);
    let decision = decide(&snapshot(set, Vec::new()));
    assert_eq!(summary(&decision.actions), ["create api", "create worker"]);
    let Action::Apply { object, .. } = &decision.actions[0] else {
        panic!()
    };
    assert_eq!(object["metadata"]["labels"][APPSET_LABEL], "microservices");
    assert_eq!(object["metadata"]["namespace"], "argocd");
    assert_eq!(
        object["metadata"]["ownerReferences"],
        json!([{"apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationSet", "name": "microservices",
            "uid": "set-uid", "controller": true, "blockOwnerDeletion": true}])
    );
    assert_eq!(
        object["metadata"]["finalizers"],
        json!(["resources-finalizer.argocd.argoproj.io"])
    );
    assert_eq!(object["spec"]["source"]["path"], "apps/api");
    let status = &decision.status;
    assert_eq!(condition(status, "ErrorOccurred")["status"], "False");
    assert_eq!(condition(status, "ParametersGenerated")["status"], "True");
    assert_eq!(
        condition(status, "ResourcesUpToDate")["reason"],
        "ApplicationSetUpToDate"
    );
    assert_eq!(
        condition(status, "ResourcesUpToDate")["lastTransitionTime"],
        "2026-12-03T10:00:00Z"
    );
}

#[test]
fn the_policy_decides_updates_and_deletions() {
    let before = appset(services(&["api", "worker"]), None);
    let owned = vec![live(&before, "api"), live(&before, "worker")];
    // Unchanged: nothing to write.
    assert!(decide(&snapshot(before.clone(), owned.clone())).actions.is_empty());

    let mut changed = appset(services(&["api"]), None);
    changed.spec.template.spec.destination.namespace = Some("team-{{service}}".into());
    let cases = [
        (None, vec!["update api", "delete worker strip=false"]),
        (
            Some(json!({"applicationsSync": "sync"})),
            vec!["update api", "delete worker strip=false"],
        ),
        (Some(json!({"applicationsSync": "create-only"})), vec![]),
        (Some(json!({"applicationsSync": "create-update"})), vec!["update api"]),
        (
            Some(json!({"applicationsSync": "create-delete"})),
            vec!["delete worker strip=false"],
        ),
    ];
    for (policy, want) in cases {
        let mut set = changed.clone();
        set.spec.sync_policy = policy.clone();
        let decision = decide(&snapshot(set, owned.clone()));
        assert_eq!(summary(&decision.actions), want, "{policy:?}");
    }
}

#[test]
fn preserved_resources_drop_the_finalizer_before_deletion() {
    let preserve = Some(json!({"preserveResourcesOnDeletion": true}));
    let fresh = decide(&snapshot(appset(services(&["api"]), preserve.clone()), Vec::new()));
    let Action::Apply { object, .. } = &fresh.actions[0] else {
        panic!()
    };
    assert!(
        object["metadata"]["finalizers"].is_null(),
        "no resources finalizer is added"
    );
    // An Application generated before the policy changed still carries it: removed first.
    let owned = vec![live(&appset(services(&["api", "worker"]), None), "worker")];
    let decision = decide(&snapshot(appset(services(&[]), preserve), owned));
    assert_eq!(summary(&decision.actions), ["delete worker strip=true"]);
}

#[test]
fn an_invalid_element_is_named_while_the_others_apply_and_nothing_is_deleted() {
    let before = appset(services(&["api", "worker"]), None);
    let owned = vec![live(&before, "api"), live(&before, "worker")];
    let set = appset(json!([{"service": "Bad_Name"}, {"service": "web"}]), None);
    let decision = decide(&snapshot(set, owned));
    assert_eq!(
        summary(&decision.actions),
        ["create web"],
        "no deletion while an element fails"
    );
    let error = condition(&decision.status, "ErrorOccurred");
    assert_eq!(error["status"], "True");
    assert_eq!(error["reason"], "ApplicationValidationError");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("spec.generators[0][0]: spec.template.metadata.name: \"Bad_Name\""),
        "{error}"
    );
    assert_eq!(condition(&decision.status, "ResourcesUpToDate")["status"], "False");
    assert_eq!(decision.events.len(), 1);
    assert!(decision.events[0].warning);
}

#[test]
fn names_owned_by_others_unknown_projects_and_duplicates_are_refused() {
    let set = appset(services(&["api", "worker", "api"]), None);
    let mut snap = snapshot(set, Vec::new());
    snap.foreign.insert("worker".into());
    let decision = decide(&snap);
    assert_eq!(summary(&decision.actions), ["create api"]);
    let message = condition(&decision.status, "ErrorOccurred")["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        message,
        "spec.generators[0][1]: Application worker already exists and is not owned by ApplicationSet microservices (and 1 more)"
    );

    let mut set = appset(services(&["api"]), None);
    set.spec.template.spec.project = Some("platform".into());
    let decision = decide(&snapshot(set, Vec::new()));
    assert!(decision.actions.is_empty());
    assert!(
        condition(&decision.status, "ErrorOccurred")["message"]
            .as_str()
            .unwrap()
            .contains("AppProject \"platform\" does not exist")
    );
}

#[test]
fn failing_generators_write_nothing_and_say_why() {
    let before = appset(services(&["api"]), None);
    let mut snap = snapshot(before.clone(), vec![live(&before, "api")]);
    snap.generated = Err(GeneratorError::new("spec.generators[0].git.repoURL", "cannot fetch"));
    let decision = decide(&snap);
    assert!(decision.actions.is_empty(), "nothing deleted when the generators fail");
    assert_eq!(condition(&decision.status, "ParametersGenerated")["status"], "False");
    assert_eq!(
        condition(&decision.status, "ErrorOccurred")["message"],
        "spec.generators[0].git.repoURL: cannot fetch"
    );
    let mut go = before;
    go.spec.go_template = Some(true);
    let decision = decide(&snapshot(go, Vec::new()));
    assert!(decision.actions.is_empty());
    assert!(
        condition(&decision.status, "ErrorOccurred")["message"]
            .as_str()
            .unwrap()
            .starts_with("spec.goTemplate: ")
    );
}

#[test]
fn the_status_lists_the_applications_and_keeps_transition_times() {
    let set = appset(services(&["api"]), None);
    let mut api = live(&set, "api");
    api.status =
        Some(serde_json::from_value(json!({"sync": {"status": "Synced"}, "health": {"status": "Healthy"}})).unwrap());
    let first = decide(&snapshot(set.clone(), vec![api.clone()]));
    assert_eq!(
        first.status.resources,
        [
            json!({"group": "argoproj.io", "version": "v1alpha1", "kind": "Application", "namespace": "argocd",
            "name": "api", "status": "Synced", "health": {"status": "Healthy"}})
        ]
    );
    let mut later = set;
    later.status = Some(first.status.clone());
    let mut snap = snapshot(later, vec![api]);
    snap.now = "2026-12-03T11:00:00Z".parse().unwrap();
    let mut second = decide(&snap);
    assert_eq!(second.status, first.status, "an unchanged status is not rewritten");
    settle(
        &snap,
        &mut second,
        &[("CreateApplicationError", "Application x: denied".into())],
    );
    let error = condition(&second.status, "ErrorOccurred");
    assert_eq!(error["reason"], "CreateApplicationError");
    assert_eq!(error["lastTransitionTime"], "2026-12-03T11:00:00Z");
}
