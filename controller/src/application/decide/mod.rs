//! The Application decision, pure: the snapshot (and its `now`) in, the status, actions, Events and
//! wake-up time out. [`decide`] checks the spec and the project, fills the comparison, starts an
//! operation (asked for, or by the automated policy) and carries a running one forward; [`settle`]
//! folds in what carrying out the actions gave.

mod automation;
mod backoff;
mod finalizer;
mod finish;
pub mod hooks;
mod operation;
pub mod resources;
pub mod revert;

use crds::gitops::{ApplicationCondition, ApplicationStatus, SyncStatus};
use crds::keys::REFRESH_ANNOTATION;
use gitops::project::{self, Destination, Violation};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::plan::{Action, Decision, Outcome};
use super::snapshot::{InvalidSpec, Observed, Snapshot};

pub use backoff::{retry_delay_ms, self_heal_delay_ms};

/// The local cluster, as Argo CD names it.
pub const IN_CLUSTER: &str = "https://kubernetes.default.svc";

/// The sync options in force: the policy's, then the running operation's.
fn options(snap: &Snapshot, d: &Decision) -> Vec<String> {
    let policy = snap
        .app
        .spec
        .sync_policy
        .as_ref()
        .map(|p| p.sync_options.clone())
        .unwrap_or_default();
    let op = d
        .status
        .operation_state
        .as_ref()
        .and_then(|s| s.operation.as_ref())
        .and_then(|o| o.sync.as_ref())
        .map(|s| s.sync_options.clone())
        .unwrap_or_default();
    policy.into_iter().chain(op).collect()
}

/// Problems with the spec or the project, as `InvalidSpecError` messages.
fn invalid_spec(snap: &Snapshot) -> Vec<String> {
    let spec = &snap.app.spec;
    let mut problems = Vec::new();
    let project_name = spec.project.as_deref().filter(|p| !p.is_empty()).unwrap_or("default");
    let (server, name) = match &snap.cluster {
        Ok(c) => (c.server.as_str(), c.name.as_str()),
        Err(InvalidSpec(message)) => {
            problems.push(message.clone());
            (
                spec.destination.server.as_deref().unwrap_or_default(),
                spec.destination.name.as_deref().unwrap_or_default(),
            )
        }
    };
    if snap.app.spec.primary_source().is_none() {
        problems.push("spec.source: the Application has no source".into());
    }
    if spec.sources.len() > 1 {
        problems.push("spec.sources: multiple sources are not supported yet".into());
    }
    match &snap.project {
        Err(InvalidSpec(message)) => problems.push(message.clone()),
        Ok(rules) => {
            if let Some(source) = snap.app.spec.primary_source()
                && !project::source_permitted(rules, &source.repo_url)
            {
                problems.push(
                    Violation::Source {
                        repo: source.repo_url.clone(),
                    }
                    .message(project_name),
                );
            }
            let destination = Destination {
                server,
                name,
                namespace: &snap.namespace,
            };
            if !project::destination_permitted(rules, &destination) {
                problems.push(
                    Violation::Destination {
                        server: destination.server.to_owned(),
                        namespace: snap.namespace.clone(),
                    }
                    .message(project_name),
                );
            }
            if let Ok(observed) = &snap.source {
                kind_violations(rules, observed, project_name, &mut problems);
            }
        }
    }
    problems
}

fn kind_violations(
    rules: &crds::gitops::AppProjectSpec,
    observed: &Observed,
    project: &str,
    problems: &mut Vec<String>,
) {
    for r in &observed.resources {
        let (group, _) = resources::group_version(&r.desired);
        let kind = r.desired["kind"].as_str().unwrap_or_default();
        if !project::kind_permitted(rules, &group, kind, r.namespaced) {
            let message = Violation::Kind {
                group,
                kind: kind.to_owned(),
            }
            .message(project);
            if !problems.contains(&message) {
                problems.push(message);
            }
        }
    }
}

const OUR_CONDITIONS: [&str; 7] = [
    "InvalidSpecError",
    "RevertedChangeBlocked",
    "ComparisonError",
    "SyncError",
    "AutoRevertRefused",
    "AutoRevertDryRun",
    "RevertFailed",
];

fn set_conditions(status: &mut ApplicationStatus, wanted: &[(&str, String)], now: Time) {
    let previous = std::mem::take(&mut status.conditions);
    status.conditions = previous
        .iter()
        .filter(|c| !OUR_CONDITIONS.contains(&c.type_.as_str()))
        .cloned()
        .collect();
    for (type_, message) in wanted {
        let kept = previous.iter().find(|c| c.type_ == *type_ && c.message == *message);
        status.conditions.push(ApplicationCondition {
            type_: (*type_).to_owned(),
            message: message.clone(),
            last_transition_time: kept
                .and_then(|c| c.last_transition_time.clone())
                .or_else(|| Some(now.clone())),
        });
    }
}

/// Decides what to do about the Application in `snap`.
#[must_use]
pub fn decide(snap: &Snapshot) -> Decision {
    let previous = snap.app.status.clone().unwrap_or_default();
    let mut d = Decision {
        status: previous.clone(),
        ..Decision::default()
    };
    let refresh = snap
        .app
        .metadata
        .annotations
        .as_ref()
        .is_some_and(|a| a.contains_key(REFRESH_ANNOTATION));
    if refresh {
        d.actions.push(Action::ClearRefresh);
    }
    let unreachable = snap.cluster.as_ref().ok().and_then(|c| c.unreachable.clone());
    if snap.app.metadata.deletion_timestamp.is_some() {
        // Its resources cannot be seen on a cluster that does not answer: wait for it.
        if unreachable.is_none() {
            finalizer::decide(snap, &mut d);
        }
        return d;
    }
    let mut conditions: Vec<(&str, String)> = invalid_spec(snap)
        .into_iter()
        .map(|m| ("InvalidSpecError", m))
        .collect();
    match &snap.source {
        _ if !conditions.is_empty() => unknown_sync(&mut d.status),
        // Whether Git could not be read or cannot be used, the comparison is unknown (Argo CD's
        // ComparisonError); nothing here is a verdict on the resources' health or a revert.
        Err(unobserved) => {
            let message = unobserved.message().to_owned();
            conditions.push(("ComparisonError", message.clone()));
            unknown_sync(&mut d.status);
            if unreachable.is_some() {
                d.status.health = Some(crds::gitops::HealthStatus {
                    status: Some("Unknown".into()),
                    message: Some(message),
                });
            }
        }
        Ok(observed) => {
            resources::fill(snap, observed, &mut d.status);
            if let Some(said) = operate(snap, observed, &mut d) {
                conditions.push(said);
            }
            if let Some(said) = revert::decide(snap, observed, &mut d) {
                conditions.push(said);
            }
        }
    }
    set_conditions(&mut d.status, &conditions, Time(snap.now));
    let compared = |s: &ApplicationStatus| {
        (
            s.sync.clone(),
            s.resources.clone(),
            s.health.clone(),
            s.conditions.clone(),
        )
    };
    if refresh || compared(&d.status) != compared(&previous) || d.status.reconciled_at.is_none() {
        d.status.reconciled_at = Some(Time(snap.now));
    }
    d
}

/// Adds one of our conditions, keeping the others.
fn set_conditions_keep(status: &mut ApplicationStatus, (type_, message): (&str, String), now: Time) {
    status.conditions.retain(|c| c.type_ != type_);
    status.conditions.push(ApplicationCondition {
        type_: type_.to_owned(),
        message,
        last_transition_time: Some(now),
    });
}

fn unknown_sync(status: &mut ApplicationStatus) {
    let revision = status.sync.as_ref().and_then(|s| s.revision.clone());
    status.sync = Some(SyncStatus {
        status: "Unknown".into(),
        revision,
    });
}

/// Starts or carries forward an operation; the condition when the policy refused one or held a
/// reverted change out.
fn operate(snap: &Snapshot, observed: &Observed, d: &mut Decision) -> Option<(&'static str, String)> {
    let running = d
        .status
        .operation_state
        .as_ref()
        .is_some_and(|s| s.phase == operation::RUNNING);
    let (mut refused, mut held) = (None, None);
    let back = revert::brought_back(snap, observed);
    if let Some(requested) = &snap.app.operation {
        if !running {
            operation::start(snap, observed, d, requested.clone());
            revert::let_in(snap, &back, d);
            d.clear_operation = true;
        } else if operation::is_running(d, requested) {
            // Started before, but clearing the field did not land (a conflict): clear it now, or it
            // would start again once the running one ends.
            d.clear_operation = true;
        }
    } else if !back.is_empty() && automation::would_sync(snap, d) && (!running || automation::superseded(d, observed)) {
        // Not automatically: the revision brings back a template Sluice reverted.
        let message = revert::blocked_message(&back, &observed.revision);
        if !previous_condition(d, "RevertedChangeBlocked") {
            d.event(true, "RevertedChangeBlocked", message.clone());
        }
        held = Some(message);
    } else if running && automation::superseded(d, observed) {
        // A newer commit wins: the automated sync of the old one (running or waiting to retry)
        // gives way to a sync of the new one, whatever the comparison says now.
        d.event(
            false,
            "OperationSuperseded",
            format!("a newer revision {} supersedes the running sync", observed.revision),
        );
        refused = automation::start_superseding(snap, observed, d);
    } else if !running {
        refused = automation::maybe_start(snap, observed, d);
    }
    operation::advance(snap, observed, d);
    held.map(|m| ("RevertedChangeBlocked", m))
        .or_else(|| refused.map(|m| ("SyncError", m)))
}

fn previous_condition(d: &Decision, type_: &str) -> bool {
    d.status.conditions.iter().any(|c| c.type_ == type_)
}

/// Folds the outcome of the actions into the decision: created hooks get their names, failed
/// applies fail the operation (or schedule its retry). Returns actions that follow (SyncFail hooks).
pub fn settle(snap: &Snapshot, d: &mut Decision, outcome: &Outcome) -> Vec<Action> {
    if let Some((pushed, message)) = &outcome.revert {
        if *pushed {
            d.event(false, "Reverted", message.clone());
        } else {
            // Nothing was reverted on the branch: nothing to keep out.
            d.actions.retain(|a| !matches!(a, Action::KeepOut { .. }));
            d.event(true, "RevertFailed", message.clone());
            set_conditions_keep(&mut d.status, ("RevertFailed", message.clone()), Time(snap.now));
        }
    }
    let Some(state) = d.status.operation_state.as_mut() else {
        return Vec::new();
    };
    let Some(result) = state.sync_result.as_mut() else {
        return Vec::new();
    };
    let key = |r: &crds::gitops::ResourceResult| format!("{}/{}/{}/{}", r.group, r.kind, r.namespace, r.name);
    for (manifest, created) in &outcome.created_hooks {
        if let Some(r) = result.resources.iter_mut().find(|r| key(r) == *manifest) {
            r.name.clone_from(created);
        }
    }
    let mut first = None;
    for (resource, message) in &outcome.failures {
        if let Some(r) = result.resources.iter_mut().find(|r| key(r) == *resource) {
            r.status = Some("SyncFailed".into());
            r.message = Some(message.clone());
        }
        first.get_or_insert(format!("{resource}: {message}"));
    }
    let Some(message) = first else { return Vec::new() };
    if state.phase != operation::RUNNING {
        return Vec::new();
    }
    let before = d.actions.len();
    let hooks = snap.source.as_ref().map(|o| o.hooks.clone()).unwrap_or_default();
    let fail_hooks = finish::sync_fail_hooks(&hooks);
    finish::fail(snap, &fail_hooks, d, &message);
    d.actions.split_off(before)
}

#[cfg(test)]
mod tests;
