//! Deciding what an ApplicationSet's Applications should be, pure (Argo's
//! `ApplicationSetReconciler.Reconcile`): each parameter set renders one Application, owned by
//! the set (controller ownerReference, the `argocd.argoproj.io/application-set-name` label, the
//! resources finalizer unless `preserveResourcesOnDeletion`); missing ones are created, changed
//! ones updated and those whose set is gone deleted, as `applicationsSync` allows.
//!
//! Nothing is lost or half-applied: when the generators fail nothing is written; an element that
//! renders an invalid Application (bad name, no destination, an unknown project, a name another
//! set or a person owns) is named in the status and skipped while the others apply, and no
//! Application is deleted in that reconcile (its element may be the one that failed).

use std::collections::BTreeMap;

use crds::gitops::{ApplicationSetStatus, StoredApplication};
use crds::keys::RESOURCES_FINALIZER;
use gitops::appset::{policy, template};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::ResourceExt as _;
use serde_json::{Value, json};

use super::plan::{Action, Decision, Event};
use super::snapshot::Snapshot;

pub use crds::keys::APPSET_LABEL;

/// Decides the writes and status of `snap`.
#[must_use]
pub fn decide(snap: &Snapshot) -> Decision {
    let set = &snap.appset;
    let namespace = set.namespace().unwrap_or_default();
    let generated = policy::of(set.spec.sync_policy.as_ref()).and_then(|policy| {
        template::supported(set.spec.go_template == Some(true))?;
        snap.generated.clone().map(|sets| (policy, sets))
    });
    let (policy, sets) = match generated {
        Ok(ok) => ok,
        Err(error) => {
            let message = error.to_string();
            return Decision {
                actions: Vec::new(),
                status: status(snap, Outcome::NotGenerated(&message)),
                events: vec![Event::warning("ApplicationParamsGenerationError", message)],
            };
        }
    };
    let mut errors: Vec<String> = Vec::new();
    let mut wanted: BTreeMap<String, Value> = BTreeMap::new();
    for (field, params) in &sets {
        match template::render(&set.spec.template, params, false, &namespace, field) {
            Ok(app) => match check(snap, &app, field, &namespace, &wanted) {
                Ok(name) => {
                    wanted.insert(name, owned(snap, app, policy.preserve_resources));
                }
                Err(message) => errors.push(message),
            },
            Err(error) => errors.push(error.to_string()),
        }
    }
    let mut actions = Vec::new();
    for (name, object) in &wanted {
        match snap.owned.iter().find(|a| a.name_any() == *name) {
            None => actions.push(Action::Apply {
                name: name.clone(),
                object: object.clone(),
                create: true,
            }),
            Some(live) if policy.update && !covers(live, object) => actions.push(Action::Apply {
                name: name.clone(),
                object: object.clone(),
                create: false,
            }),
            Some(_) => {}
        }
    }
    if policy.delete && errors.is_empty() {
        for app in &snap.owned {
            if wanted.contains_key(&app.name_any()) || app.metadata.deletion_timestamp.is_some() {
                continue;
            }
            let finalizers = app.metadata.finalizers.iter().flatten();
            actions.push(Action::Delete {
                name: app.name_any(),
                strip_finalizer: policy.preserve_resources
                    && finalizers.into_iter().any(|f| f.starts_with(RESOURCES_FINALIZER)),
            });
        }
    }
    let events = errors
        .iter()
        .map(|message| Event::warning("ApplicationValidationError", message.clone()))
        .collect();
    let outcome = match errors.split_first() {
        None => Outcome::UpToDate,
        Some((first, [])) => Outcome::Invalid(first.clone()),
        Some((first, more)) => Outcome::Invalid(format!("{first} (and {} more)", more.len())),
    };
    Decision {
        actions,
        status: status(snap, outcome),
        events,
    }
}

/// The name of a rendered Application that may be applied, or why it may not.
fn check(
    snap: &Snapshot,
    app: &Value,
    field: &str,
    namespace: &str,
    wanted: &BTreeMap<String, Value>,
) -> Result<String, String> {
    let name = app["metadata"]["name"].as_str().unwrap_or_default().to_owned();
    if app["metadata"]["namespace"].as_str() != Some(namespace) {
        return Err(format!(
            "{field}: spec.template.metadata.namespace: Applications are generated in the ApplicationSet's namespace {namespace}"
        ));
    }
    if wanted.contains_key(&name) {
        return Err(format!("{field}: Application {name} is generated twice"));
    }
    if snap.foreign.contains(&name) {
        return Err(format!(
            "{field}: Application {name} already exists and is not owned by ApplicationSet {}",
            snap.appset.name_any()
        ));
    }
    let project = app["spec"]["project"]
        .as_str()
        .filter(|p| !p.is_empty())
        .unwrap_or("default");
    if project != "default" && !snap.projects.contains(project) {
        return Err(format!(
            "{field}: spec.template.spec.project: AppProject {project:?} does not exist in namespace {namespace}"
        ));
    }
    Ok(name)
}

/// `app` owned by the set: its ownerReference, label and (unless resources are preserved) the
/// resources finalizer.
fn owned(snap: &Snapshot, mut app: Value, preserve_resources: bool) -> Value {
    let set = &snap.appset;
    let metadata = &mut app["metadata"];
    metadata["labels"][APPSET_LABEL] = Value::from(set.name_any());
    metadata["ownerReferences"] = json!([{
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ApplicationSet",
        "name": set.name_any(),
        "uid": set.uid().unwrap_or_default(),
        "controller": true,
        "blockOwnerDeletion": true,
    }]);
    if !preserve_resources {
        let finalizers = metadata["finalizers"].as_array().cloned().unwrap_or_default();
        if !finalizers
            .iter()
            .any(|f| f.as_str().is_some_and(|f| f.starts_with(RESOURCES_FINALIZER)))
        {
            let mut finalizers = finalizers;
            finalizers.push(Value::from(RESOURCES_FINALIZER));
            metadata["finalizers"] = Value::Array(finalizers);
        }
    }
    app
}

/// Whether the live Application already has everything `wanted` sets.
fn covers(live: &StoredApplication, wanted: &Value) -> bool {
    let Ok(live) = serde_json::to_value(live) else {
        return false;
    };
    ["metadata", "spec"]
        .iter()
        .all(|part| crate::merge_patch::covers(&live[part], &wanted[part]))
}

/// The status after the writes: a write that failed (the first named, with how many more) makes
/// the set's resources not up to date.
pub fn settle(snap: &Snapshot, decision: &mut Decision, failures: &[(&'static str, String)]) {
    let Some(((reason, first), more)) = failures.split_first() else {
        return;
    };
    let message = if more.is_empty() {
        first.clone()
    } else {
        format!("{first} (and {} more)", more.len())
    };
    decision.status = status(snap, Outcome::NotWritten(reason, message));
}

/// How the reconcile went, for the conditions.
enum Outcome<'a> {
    /// Writes failed (the reason of the first, and a message naming them).
    NotWritten(&'static str, String),
    /// Every Application rendered.
    UpToDate,
    /// Some did not (the message names them).
    Invalid(String),
    /// The generators failed; nothing was written.
    NotGenerated(&'a str),
}

/// Argo's three conditions (`setApplicationSetStatusCondition`) and the owned Applications.
fn status(snap: &Snapshot, outcome: Outcome<'_>) -> ApplicationSetStatus {
    const ALL_GENERATED: &str = "Successfully generated parameters for all Applications";
    let (error, generated, up_to_date) = match &outcome {
        Outcome::UpToDate => (
            ("False", "ApplicationSetUpToDate", ALL_GENERATED),
            ("True", "ParametersGenerated", ALL_GENERATED),
            (
                "True",
                "ApplicationSetUpToDate",
                "All applications have been generated successfully",
            ),
        ),
        Outcome::Invalid(message) => (
            ("True", "ApplicationValidationError", message.as_str()),
            ("True", "ParametersGenerated", ALL_GENERATED),
            ("False", "ApplicationValidationError", message.as_str()),
        ),
        Outcome::NotWritten(reason, message) => (
            ("True", *reason, message.as_str()),
            ("True", "ParametersGenerated", ALL_GENERATED),
            ("False", *reason, message.as_str()),
        ),
        Outcome::NotGenerated(message) => (
            ("True", "ApplicationParamsGenerationError", *message),
            ("False", "ErrorOccurred", *message),
            ("False", "ApplicationParamsGenerationError", *message),
        ),
    };
    let now = serde_json::to_value(Time(snap.now))
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let previous = snap
        .appset
        .status
        .as_ref()
        .map(|s| s.conditions.as_slice())
        .unwrap_or_default();
    let condition = |type_: &str, (status, reason, message): (&str, &str, &str)| {
        let since = previous
            .iter()
            .find(|c| c["type"] == type_ && c["status"] == status)
            .and_then(|c| c["lastTransitionTime"].as_str().map(str::to_owned))
            .unwrap_or_else(|| now.clone());
        json!({"type": type_, "status": status, "reason": reason, "message": message, "lastTransitionTime": since})
    };
    let mut owned: Vec<&StoredApplication> = snap.owned.iter().collect();
    owned.sort_by_key(|a| a.name_any());
    ApplicationSetStatus {
        conditions: vec![
            condition("ErrorOccurred", error),
            condition("ParametersGenerated", generated),
            condition("ResourcesUpToDate", up_to_date),
        ],
        resources: owned.into_iter().map(resource).collect(),
    }
}

/// One generated Application as `status.resources` lists it.
fn resource(app: &StoredApplication) -> Value {
    let status = app.status.as_ref();
    let sync = status.and_then(|s| s.sync.as_ref()).map(|s| s.status.clone());
    let health = status.and_then(|s| s.health.as_ref());
    let mut entry = json!({
        "group": "argoproj.io",
        "version": "v1alpha1",
        "kind": "Application",
        "namespace": app.namespace().unwrap_or_default(),
        "name": app.name_any(),
    });
    if let Some(sync) = sync.filter(|s| !s.is_empty()) {
        entry["status"] = Value::from(sync);
    }
    if let Some(health) = health {
        entry["health"] = json!({"status": health.status});
        if let Some(message) = health.message.as_ref().filter(|m| !m.is_empty()) {
            entry["health"]["message"] = Value::from(message.clone());
        }
    }
    entry
}

#[cfg(test)]
mod tests;
