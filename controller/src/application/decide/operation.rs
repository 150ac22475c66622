//! A sync operation, carried forward one reconcile at a time from what is recorded in
//! `status.operationState` (gitops-engine's `syncContext.Sync` is re-entered the same way): the
//! plan is rebuilt from the snapshot, the first step whose tasks are not done is worked on (its
//! OutOfSync resources applied, its hooks created, its prunes issued), and the operation waits
//! for watch events until that step is synced and healthy. Per-resource results are recorded as
//! they are issued, so a step's work is done once per operation.
//!
//! Where Sluice differs on purpose: a Rollout paused by its steps (Suspended) counts as done for
//! later waves, and PostSync hooks wait until every Rollout is fully promoted (Healthy), instead of
//! waiting forever (Argo CD) or running while the canary is still at 20%. A Degraded resource in a
//! step fails the operation (so `retry` and SyncFail hooks apply) instead of waiting forever.

use crds::gitops::{Operation, OperationState, ResourceResult, StoredApplication, SyncOperationResult};
use gitops::health::HealthStatus;
use gitops::sync::{self, Action as TaskAction, Phase, Task};
use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::Value;

use super::super::plan::{Action, Decision, Propagation};
use super::super::snapshot::{Observed, Snapshot};
use super::hooks::{self, HookPhase};
use super::resources::{group_version, resource_health};
use super::{finish, options};

pub(super) const RUNNING: &str = "Running";

/// Starts `operation` at the observed revision.
pub(super) fn start(snap: &Snapshot, observed: &Observed, d: &mut Decision, mut operation: Operation) {
    let mut sync = operation.sync.take().unwrap_or_default();
    sync.revision = Some(observed.revision.clone());
    operation.sync = Some(sync);
    let short = &observed.revision[..observed.revision.len().min(7)];
    let who = match &operation.initiated_by {
        Some(i) if i.automated == Some(true) => "automated sync policy".to_owned(),
        Some(i) => i.username.clone().unwrap_or_else(|| "a user".into()),
        None => "a user".into(),
    };
    d.event(false, "OperationStarted", format!("Initiated sync to {short} by {who}"));
    d.status.operation_state = Some(OperationState {
        phase: RUNNING.into(),
        message: Some("starting the sync".into()),
        sync_result: Some(SyncOperationResult {
            revision: observed.revision.clone(),
            resources: Vec::new(),
            source: snap.app.spec.primary_source().cloned(),
        }),
        retry_count: Some(0),
        started_at: Some(Time(snap.now)),
        finished_at: None,
        operation: Some(operation),
    });
    let opts = options(snap, d);
    if opts.iter().any(|o| o.eq_ignore_ascii_case("CreateNamespace=true")) && !snap.namespace.is_empty() {
        let meta = snap
            .app
            .spec
            .sync_policy
            .as_ref()
            .and_then(|p| p.managed_namespace_metadata.clone());
        d.actions.push(Action::CreateNamespace {
            name: snap.namespace.clone(),
            labels: meta.as_ref().map(|m| m.labels.clone()).unwrap_or_default(),
            annotations: meta.map(|m| m.annotations).unwrap_or_default(),
        });
    }
}

/// Whether `requested` is the running operation (`start` pinned the revision it left open).
pub(super) fn is_running(d: &Decision, requested: &Operation) -> bool {
    let Some(running) = d.status.operation_state.as_ref().and_then(|s| s.operation.as_ref()) else {
        return false;
    };
    let mut requested = requested.clone();
    let asked = requested.sync.get_or_insert_with(Default::default);
    if asked.revision.is_none() {
        asked.revision = running.sync.as_ref().and_then(|s| s.revision.clone());
    }
    requested == *running
}

fn text<'a>(o: &'a Value, p: &str) -> &'a str {
    o.pointer(p).and_then(Value::as_str).unwrap_or_default()
}

/// The result entry of `object` in `phase`, matching a generateName hook by its prefix.
fn result_index(results: &[ResourceResult], object: &Value, phase: Phase) -> Option<usize> {
    let (group, _) = group_version(object);
    let (name, generate) = (text(object, "/metadata/name"), text(object, "/metadata/generateName"));
    results.iter().position(|r| {
        r.group == group
            && r.kind == text(object, "/kind")
            && r.namespace == text(object, "/metadata/namespace")
            && r.sync_phase.as_deref() == Some(phase_name(phase))
            && (if name.is_empty() {
                r.name.starts_with(generate)
            } else {
                r.name == name
            })
    })
}

fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::PreSync => "PreSync",
        Phase::Sync => "Sync",
        Phase::PostSync => "PostSync",
        Phase::SyncFail => "SyncFail",
    }
}

fn result_of(object: &Value, phase: Phase, status: &str, message: &str, hook: bool) -> ResourceResult {
    let (group, version) = group_version(object);
    let name = match text(object, "/metadata/name") {
        "" => text(object, "/metadata/generateName"),
        n => n,
    };
    ResourceResult {
        group,
        version,
        kind: text(object, "/kind").to_owned(),
        namespace: text(object, "/metadata/namespace").to_owned(),
        name: name.to_owned(),
        status: Some(status.to_owned()),
        message: Some(message.to_owned()),
        hook_type: hook.then(|| phase_name(phase).to_owned()),
        hook_phase: hook.then(|| HookPhase::Running.as_str().to_owned()),
        sync_phase: Some(phase_name(phase).to_owned()),
    }
}

/// How the resources of a sync are applied (app-wide sync options; per-resource ones are read
/// from each resource's annotation).
struct ApplyOptions<'a> {
    app: &'a str,
    replace: bool,
    validate: bool,
    fail_on_shared: bool,
    respect_ignore: Option<&'a [crds::gitops::ResourceIgnoreDifferences]>,
}

/// What working on one step found.
#[derive(Default)]
struct StepWork {
    actions: Vec<Action>,
    waiting: Option<String>,
    failed: Option<String>,
}

fn describe(object: &Value) -> String {
    format!("{}/{}", text(object, "/kind"), text(object, "/metadata/name"))
}

fn apply_task(
    observed: &Observed,
    task: &Task<'_>,
    results: &mut Vec<ResourceResult>,
    options: &ApplyOptions<'_>,
    work: &mut StepWork,
) {
    let key = gitops::tracking::ResourceKey::of(task.object);
    let Some(r) = observed
        .resources
        .iter()
        .find(|r| gitops::tracking::ResourceKey::of(&r.desired) == key)
    else {
        return;
    };
    match result_index(results, task.object, task.phase) {
        None if r.compared == super::super::compare::Compared::Synced => {
            results.push(result_of(task.object, task.phase, "Synced", "unchanged", false));
        }
        None if !r.served => {
            let why = match &r.compared {
                super::super::compare::Compared::Error(e) => e.clone(),
                _ => "the server does not serve this kind".to_owned(),
            };
            work.failed = Some(format!("{}: {why}", describe(task.object)));
        }
        None => {
            let owner = r.live.as_ref().and_then(gitops::tracking::tracked_by);
            if options.fail_on_shared
                && let Some(other) = owner.filter(|o| o != options.app)
            {
                work.failed = Some(format!(
                    "{} is already managed by application {other} (FailOnSharedResource=true)",
                    describe(task.object)
                ));
                return;
            }
            let desired = match (&r.live, options.respect_ignore) {
                (Some(live), Some(rules)) => match gitops::diff::keep_ignored(&r.desired, live, rules) {
                    Ok(kept) => kept,
                    Err(e) => {
                        work.failed = Some(format!("{}: {}", e.field, e.message));
                        return;
                    }
                },
                _ => r.desired.clone(),
            };
            let message = if r.live.is_some() { "configured" } else { "created" };
            results.push(result_of(task.object, task.phase, "Synced", message, false));
            let own = sync::annotations::sync_options(task.object);
            let own_has = |k: &str, v: &str| own.iter().any(|(ok, ov)| ok == k && ov.eq_ignore_ascii_case(v));
            work.actions.push(Action::Apply {
                desired,
                replace: options.replace || own_has("Replace", "true"),
                validate: options.validate && !own_has("Validate", "false"),
            });
            return;
        }
        Some(i) if results[i].status.as_deref() == Some("SyncFailed") => {
            work.failed = Some(format!(
                "{}: {}",
                describe(task.object),
                results[i].message.clone().unwrap_or_default()
            ));
            return;
        }
        Some(_) => {}
    }
    match resource_health(r).map(|h| (h.status, h.message)) {
        None | Some((HealthStatus::Healthy | HealthStatus::Suspended, _)) => {}
        Some((HealthStatus::Degraded, message)) => {
            work.failed = Some(format!("{} is Degraded: {message}", describe(task.object)));
        }
        Some((status, message)) => {
            let why = if message.is_empty() {
                status.as_str().to_owned()
            } else {
                message
            };
            work.waiting
                .get_or_insert(format!("waiting for healthy state of {}: {why}", describe(task.object)));
        }
    }
}

pub(super) use crds::keys::OPERATION_ANNOTATION;

/// The id of the running operation: when it started and what it syncs.
fn operation_id(state: &OperationState) -> String {
    let started = state.started_at.as_ref().map(|t| t.0.to_string()).unwrap_or_default();
    let revision = state
        .sync_result
        .as_ref()
        .map(|r| r.revision.as_str())
        .unwrap_or_default();
    format!("{started}/{revision}")
}

fn hook_task(
    snap: &Snapshot,
    task: &Task<'_>,
    operation: &str,
    results: &mut Vec<ResourceResult>,
    work: &mut StepWork,
) {
    let name = text(task.object, "/metadata/name");
    let generate = text(task.object, "/metadata/generateName");
    let ours = snap.live_hooks.iter().find(|h| {
        let annotations = h.pointer("/metadata/annotations");
        annotations
            .and_then(|a| a.get(OPERATION_ANNOTATION))
            .and_then(Value::as_str)
            == Some(operation)
            && text(h, "/kind") == text(task.object, "/kind")
            && text(h, "/metadata/namespace") == text(task.object, "/metadata/namespace")
            && (if name.is_empty() {
                text(h, "/metadata/name").starts_with(generate)
            } else {
                text(h, "/metadata/name") == name
            })
    });
    if result_index(results, task.object, task.phase).is_none()
        && let Some(adopted) = ours
    {
        let mut entry = result_of(task.object, task.phase, "Synced", "hook created", true);
        entry.name = text(adopted, "/metadata/name").to_owned();
        results.push(entry);
    }
    let live_named = |n: &str| {
        snap.live_hooks.iter().find(|h| {
            text(h, "/metadata/name") == n
                && text(h, "/kind") == text(task.object, "/kind")
                && text(h, "/metadata/namespace") == text(task.object, "/metadata/namespace")
        })
    };
    let Some(i) = result_index(results, task.object, task.phase) else {
        // BeforeHookCreation (the default): a hook left by an earlier sync goes first.
        if !name.is_empty()
            && let Some(old) = live_named(name)
        {
            if old.pointer("/metadata/deletionTimestamp").is_none() {
                work.actions.push(Action::Delete {
                    live: old.clone(),
                    propagation: Propagation::Background,
                });
            }
            work.waiting.get_or_insert(format!(
                "waiting for the previous {} to be deleted",
                describe(task.object)
            ));
            return;
        }
        results.push(result_of(task.object, task.phase, "Synced", "hook created", true));
        let mut hook = task.object.clone();
        if let Some(annotations) = hook.pointer_mut("/metadata/annotations").and_then(Value::as_object_mut) {
            annotations.insert(OPERATION_ANNOTATION.into(), Value::from(operation));
        }
        work.actions.push(Action::CreateHook { hook });
        return;
    };
    let created = results[i].name.clone();
    // A finished hook may be gone (HookSucceeded, HookFailed): its recorded phase stands.
    match results[i].hook_phase.as_deref() {
        Some("Succeeded") => return,
        Some("Failed") => {
            let message = results[i].message.clone().unwrap_or_default();
            work.failed = Some(format!(
                "hook {}/{created} failed: {message}",
                text(task.object, "/kind")
            ));
            return;
        }
        _ => {}
    }
    let Some(live) = live_named(&created) else {
        work.waiting.get_or_insert(format!(
            "waiting for hook {}/{created} to appear",
            text(task.object, "/kind")
        ));
        return;
    };
    let (phase, message) = hooks::phase(live);
    results[i].hook_phase = Some(phase.as_str().to_owned());
    results[i].message = Some(message.clone());
    let policies = sync::annotations::delete_policies(task.object);
    match phase {
        HookPhase::Running => {
            work.waiting.get_or_insert(format!(
                "waiting for hook {}/{created}: {message}",
                text(task.object, "/kind")
            ));
        }
        HookPhase::Succeeded => {
            if policies.contains(&sync::DeletePolicy::HookSucceeded)
                && live.pointer("/metadata/deletionTimestamp").is_none()
            {
                work.actions.push(Action::Delete {
                    live: live.clone(),
                    propagation: Propagation::Background,
                });
            }
        }
        HookPhase::Failed => {
            if policies.contains(&sync::DeletePolicy::HookFailed)
                && live.pointer("/metadata/deletionTimestamp").is_none()
            {
                work.actions.push(Action::Delete {
                    live: live.clone(),
                    propagation: Propagation::Background,
                });
            }
            work.failed = Some(format!(
                "hook {}/{created} failed: {message}",
                text(task.object, "/kind")
            ));
        }
    }
}

fn prune_task(
    snap: &Snapshot,
    task: &Task<'_>,
    results: &mut Vec<ResourceResult>,
    propagation: Propagation,
    work: &mut StepWork,
) {
    let still_there = snap
        .extra
        .iter()
        .any(|e| gitops::tracking::ResourceKey::of(e) == gitops::tracking::ResourceKey::of(task.object));
    if result_index(results, task.object, task.phase).is_none() {
        results.push(result_of(task.object, task.phase, "Pruned", "pruned", false));
    }
    if still_there {
        if task.object.pointer("/metadata/deletionTimestamp").is_none() {
            work.actions.push(Action::Delete {
                live: task.object.clone(),
                propagation,
            });
        }
        work.waiting
            .get_or_insert(format!("waiting for {} to be pruned", describe(task.object)));
    }
}

/// Rollouts not yet fully promoted (the rule before PostSync).
fn unpromoted_rollout(observed: &Observed) -> Option<String> {
    observed.resources.iter().find_map(|r| {
        let rollout = text(&r.desired, "/kind") == "Rollout" && group_version(&r.desired).0 == "argoproj.io";
        let h = resource_health(r)?;
        (rollout && h.status != HealthStatus::Healthy).then(|| {
            format!(
                "waiting for Rollout {} to be fully promoted before PostSync",
                text(&r.desired, "/metadata/name")
            )
        })
    })
}

/// Carries the running operation forward.
/// Whether a failed attempt still waits for its retry (then `d` wakes at the retry); else the
/// attempt starts afresh.
fn waiting_to_retry(snap: &Snapshot, state: &mut OperationState, d: &mut Decision) -> bool {
    let Some(finished) = state.finished_at.as_ref().map(|t| t.0) else {
        return false;
    };
    let retry = state.retry_count.unwrap_or(0);
    let policy = retry_policy(&snap.app, state);
    let next = finished + jiff::SignedDuration::from_millis(super::backoff::retry_delay_ms(&policy, retry));
    if snap.now < next {
        d.wake_at(next);
        return true;
    }
    state.finished_at = None;
    if let Some(r) = state.sync_result.as_mut() {
        r.resources.clear();
    }
    false
}

/// Records where the operation stands after working on the plan: succeeded, failed (or retrying),
/// or at a step whose actions are issued and which is waited on.
fn conclude(snap: &Snapshot, d: &mut Decision, outcome: Option<(Phase, i64, StepWork)>, on_failure: &[Task<'_>]) {
    match outcome {
        None => finish::succeed(snap, d),
        Some((
            _,
            _,
            StepWork {
                failed: Some(message),
                actions,
                ..
            },
        )) => {
            d.actions.extend(actions);
            finish::fail(snap, on_failure, d, &message);
        }
        Some((phase, wave, work)) => {
            d.actions.extend(work.actions);
            let message = work
                .waiting
                .unwrap_or_else(|| format!("syncing {} wave {wave}", phase_name(phase)));
            if let Some(s) = d.status.operation_state.as_mut() {
                s.message = Some(message);
            }
        }
    }
}

pub(super) fn advance(snap: &Snapshot, observed: &Observed, d: &mut Decision) {
    let Some(mut state) = d.status.operation_state.clone().filter(|s| s.phase == RUNNING) else {
        return;
    };
    if waiting_to_retry(snap, &mut state, d) {
        return;
    }
    let sync_op = state
        .operation
        .as_ref()
        .and_then(|o| o.sync.clone())
        .unwrap_or_default();
    let opts = options(snap, d);
    let has = |o: &str| opts.iter().any(|x| x.eq_ignore_ascii_case(o));
    let prune = sync_op.prune.unwrap_or(false);
    let propagation = if has("PrunePropagationPolicy=background") {
        Propagation::Background
    } else if has("PrunePropagationPolicy=orphan") {
        Propagation::Orphan
    } else {
        Propagation::Foreground
    };
    let selected = |o: &Value| {
        sync_op.resources.is_empty()
            || sync_op.resources.iter().any(|r| {
                r.kind == text(o, "/kind") && r.name == text(o, "/metadata/name") && r.group == group_version(o).0
            })
    };
    let desired: Vec<Value> = observed
        .resources
        .iter()
        .map(|r| r.desired.clone())
        .chain(observed.hooks.iter().filter(|_| sync_op.resources.is_empty()).cloned())
        .filter(selected)
        .collect();
    // Prune=confirm: only once the Application carries `argocd.argoproj.io/deletion-approved`.
    let approved = snap
        .app
        .metadata
        .annotations
        .as_ref()
        .is_some_and(|a| a.contains_key(crds::keys::DELETION_APPROVED_ANNOTATION));
    let confirmed = |o: &Value| {
        approved
            || !sync::annotations::sync_options(o)
                .iter()
                .any(|(k, v)| k == "Prune" && v.eq_ignore_ascii_case("confirm"))
    };
    let extra: Vec<Value> = snap
        .extra
        .iter()
        .filter(|o| selected(o) && confirmed(o))
        .cloned()
        .collect();
    let apply_options = ApplyOptions {
        app: snap.name(),
        replace: has("Replace=true"),
        validate: !has("Validate=false"),
        fail_on_shared: has("FailOnSharedResource=true"),
        respect_ignore: has("RespectIgnoreDifferences=true").then_some(snap.app.spec.ignore_differences.as_slice()),
    };
    let plan = sync::plan(
        &desired,
        &extra,
        sync::Options {
            prune,
            prune_last: has("PruneLast=true"),
        },
    );
    let mut results = state
        .sync_result
        .as_ref()
        .map(|r| r.resources.clone())
        .unwrap_or_default();
    let operation = operation_id(&state);
    let mut outcome = None;
    for step in &plan.steps {
        let mut work = StepWork::default();
        if step.phase == Phase::PostSync
            && let Some(wait) = unpromoted_rollout(observed)
        {
            work.waiting = Some(wait);
        } else {
            for task in &step.tasks {
                match task.action {
                    TaskAction::Apply => apply_task(observed, task, &mut results, &apply_options, &mut work),
                    TaskAction::Hook => hook_task(snap, task, &operation, &mut results, &mut work),
                    TaskAction::Prune => prune_task(snap, task, &mut results, propagation, &mut work),
                }
            }
        }
        if work.failed.is_some() || !work.actions.is_empty() || work.waiting.is_some() {
            outcome = Some((step.phase, step.wave, work));
            break;
        }
    }
    if let Some(r) = state.sync_result.as_mut() {
        r.resources = results;
    }
    d.status.operation_state = Some(state);
    conclude(snap, d, outcome, &plan.on_failure);
}

/// The retry strategy of the running operation: its own, else the sync policy's.
pub(super) fn retry_policy(app: &StoredApplication, state: &OperationState) -> crds::gitops::RetryStrategy {
    state
        .operation
        .as_ref()
        .and_then(|o| o.retry.clone())
        .or_else(|| app.spec.sync_policy.as_ref().and_then(|p| p.retry.clone()))
        .unwrap_or_default()
}

/// Whether the running operation was started by the automated policy.
pub(super) fn automated(state: &OperationState) -> bool {
    state
        .operation
        .as_ref()
        .and_then(|o| o.initiated_by.as_ref())
        .and_then(|i| i.automated)
        == Some(true)
}

/// Now plus `ms`.
pub(super) fn after(now: Timestamp, ms: i64) -> Timestamp {
    now + jiff::SignedDuration::from_millis(ms)
}
