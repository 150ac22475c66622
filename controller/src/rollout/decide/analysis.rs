//! The Rollout's AnalysisRuns (Argo's `reconcileAnalysisRuns`, `rollout/analysis.go`): which runs are current, creating them with Argo's
//! names and labels, pausing on Inconclusive, aborting on Failed or Error, terminating runs that
//! stopped mattering and deleting old ones beyond the history limits.

use std::collections::BTreeMap;

use analysis::run::is_completed;
use crds::AnalysisRun;
use crds::analysis::{AnalysisPhase, Argument};
use crds::rollout::{PauseReason, RolloutAnalysis, RolloutAnalysisRunStatus, TemplateRef};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::Pass;
use crate::rollout::identity::controller_ref;
use crate::rollout::plan::{Action, Event, reason};
use crds::keys::{HASH_LABEL, INSTANCE_ID_LABEL, REVISION_ANNOTATION, ROLLOUT_TYPE_LABEL, STEP_INDEX_LABEL};

/// The runs a Rollout currently follows, by role (names).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CurrentRuns {
    /// The current analysis step's run.
    pub step: Option<String>,
    /// The background run.
    pub background: Option<String>,
    /// The blue-green pre-promotion run.
    pub pre: Option<String>,
    /// The blue-green post-promotion run.
    pub post: Option<String>,
}

impl CurrentRuns {
    fn names(&self) -> Vec<&str> {
        [&self.step, &self.background, &self.pre, &self.post]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect()
    }
}

/// The kinds of run a Rollout creates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunKind {
    /// An analysis step, with its index.
    Step(i32),
    /// Background analysis.
    Background,
    /// Before the blue-green switch.
    PrePromotion,
    /// After the blue-green switch.
    PostPromotion,
}

impl RunKind {
    fn label(self) -> &'static str {
        match self {
            Self::Step(_) => "Step",
            Self::Background => "Background",
            Self::PrePromotion => "PrePromotion",
            Self::PostPromotion => "PostPromotion",
        }
    }

    fn infix(self) -> Option<String> {
        match self {
            Self::Step(i) => Some(i.to_string()),
            Self::Background => None,
            Self::PrePromotion => Some("pre".into()),
            Self::PostPromotion => Some("post".into()),
        }
    }
}

/// A run of the snapshot by name.
pub fn find<'a>(pass: &Pass<'a>, name: Option<&str>) -> Option<&'a AnalysisRun> {
    let name = name?;
    pass.snap.runs.iter().find(|r| r.metadata.name.as_deref() == Some(name))
}

/// The phase of a run (`None` before its controller wrote one).
pub fn phase(run: &AnalysisRun) -> Option<AnalysisPhase> {
    run.status.as_ref().and_then(|s| s.phase)
}

fn message(run: &AnalysisRun) -> String {
    run.status.as_ref().and_then(|s| s.message.clone()).unwrap_or_default()
}

/// Argo's rule for replacing a current run: after an abort (a retry), or after a person resumed a
/// pause caused by an Inconclusive run.
fn needs_new(pass: &Pass<'_>, current: Option<&AnalysisRun>) -> bool {
    let Some(run) = current else { return true };
    if pass.pause.controller_paused()
        && pass.pause.condition(PauseReason::CanaryPauseStep).is_none()
        && pass.pause.condition(PauseReason::BlueGreenPause).is_none()
    {
        return phase(run) == Some(AnalysisPhase::Inconclusive);
    }
    pass.old.aborted_at.is_some()
}

/// Pauses on Inconclusive, aborts on Failed or Error.
fn react(pass: &mut Pass<'_>, run: &AnalysisRun) {
    match phase(run) {
        Some(AnalysisPhase::Inconclusive) => pass.pause.add(PauseReason::InconclusiveAnalysisRun),
        Some(AnalysisPhase::Failed | AnalysisPhase::Error) => pass.pause.add_abort(message(run)),
        _ => {}
    }
}

fn terminate(pass: &mut Pass<'_>, run: Option<&AnalysisRun>) {
    if let Some(run) = run
        && !is_completed(phase(run))
        && run.spec.terminate != Some(true)
        && let Some(name) = run.metadata.name.clone()
    {
        pass.plan.actions.push(Action::TerminateAnalysisRun { name });
    }
}

/// Follows (or starts) the run of one role. Returns its name.
pub fn follow(pass: &mut Pass<'_>, kind: RunKind, spec: &RolloutAnalysis, current: Option<String>) -> Option<String> {
    let current_run = find(pass, current.as_deref());
    if pass.pause.condition(PauseReason::InconclusiveAnalysisRun).is_some() {
        return current;
    }
    if needs_new(pass, current_run) {
        // A run this controller created a moment ago may not be in the status it read yet (the
        // status write of that pass can still be in flight): follow it rather than start a twin.
        if current_run.is_none()
            && let Some(name) = unfinished(pass, kind)
        {
            return Some(name);
        }
        return create(pass, kind, spec);
    }
    if let Some(run) = current_run {
        react(pass, run);
    }
    current
}

/// An unfinished, unterminated run of this role for the new ReplicaSet.
fn unfinished(pass: &Pass<'_>, kind: RunKind) -> Option<String> {
    let hash = pass.hash.clone();
    pass.snap
        .runs
        .iter()
        .filter(|r| !is_completed(phase(r)) && r.spec.terminate != Some(true))
        .find(|r| {
            let labels = r.metadata.labels.clone().unwrap_or_default();
            let step_matches = match kind {
                RunKind::Step(i) => labels.get(STEP_INDEX_LABEL) == Some(&i.to_string()),
                _ => true,
            };
            labels.get(ROLLOUT_TYPE_LABEL).map(String::as_str) == Some(kind.label())
                && labels.get(HASH_LABEL) == Some(&hash)
                && step_matches
        })
        .and_then(|r| r.metadata.name.clone())
}

/// Terminates the run of a role that no longer applies.
pub fn stop(pass: &mut Pass<'_>, current: Option<&str>) {
    let run = find(pass, current);
    terminate(pass, run);
}

fn resolve_args(pass: &Pass<'_>, spec: &RolloutAnalysis) -> Result<Vec<Argument>, String> {
    let object = serde_json::to_value(pass.rollout).unwrap_or_default();
    spec.args
        .iter()
        .map(|arg| {
            let value = match (&arg.value, &arg.value_from) {
                (Some(v), _) => v.clone(),
                (None, Some(from)) => match (&from.pod_template_hash_value, &from.field_ref) {
                    (Some(which), _) if which == "Stable" => pass.old.stable_rs.clone().unwrap_or_default(),
                    (Some(which), _) if which == "Latest" => pass.hash.clone(),
                    (Some(other), _) => {
                        return Err(format!(
                            "args.{}: podTemplateHashValue {other:?} is not Stable or Latest",
                            arg.name
                        ));
                    }
                    (None, Some(field)) => analysis::args::read_field_path(&object, &field.field_path)
                        .map_err(|e| format!("args.{}: {e}", arg.name))?,
                    (None, None) => String::new(),
                },
                (None, None) => String::new(),
            };
            Ok(Argument {
                name: arg.name.clone(),
                value: Some(value),
                value_from: None,
            })
        })
        .collect()
}

fn create(pass: &mut Pass<'_>, kind: RunKind, spec: &RolloutAnalysis) -> Option<String> {
    let templates: Vec<_> = spec
        .templates
        .iter()
        .filter_map(|t| pass.snap.templates.get(&TemplateRef::from(t)))
        .collect();
    let built = resolve_args(pass, spec)
        .and_then(|args| analysis::template::run_spec(&templates, &args).map_err(|e| e.to_string()));
    let mut run_spec = match built {
        Ok(s) => s,
        Err(error) => {
            // The run cannot be built: the update cannot be judged, so it is aborted with the reason.
            pass.pause
                .add_abort(format!("cannot create the {} AnalysisRun: {error}", kind.label()));
            return None;
        }
    };
    run_spec.dry_run.extend(spec.dry_run.iter().cloned());
    run_spec
        .measurement_retention
        .extend(spec.measurement_retention.iter().cloned());
    let hash = pass.hash.clone();
    let mut base = format!("{}-{hash}-{}", pass.name(), pass.revision);
    if let Some(infix) = kind.infix() {
        base = format!("{base}-{infix}");
    }
    let taken = |name: &str| pass.snap.runs.iter().any(|r| r.metadata.name.as_deref() == Some(name));
    let name = std::iter::once(base.clone())
        .chain((1..).map(|n| format!("{base}.{n}")))
        .find(|n| !taken(n))
        .unwrap_or(base);
    let mut labels = BTreeMap::from([
        (ROLLOUT_TYPE_LABEL.to_string(), kind.label().to_string()),
        (HASH_LABEL.to_string(), hash),
    ]);
    if let RunKind::Step(i) = kind {
        labels.insert(STEP_INDEX_LABEL.into(), i.to_string());
    }
    if let Some(id) = pass
        .rollout
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(INSTANCE_ID_LABEL))
    {
        labels.insert(INSTANCE_ID_LABEL.into(), id.clone());
    }
    let metadata = spec.analysis_run_metadata.clone().unwrap_or_default();
    labels.extend(metadata.labels);
    if let Some(selector) = pass.rollout.spec.selector.as_ref().and_then(|s| s.match_labels.clone()) {
        labels.extend(selector);
    }
    let mut annotations = BTreeMap::from([(REVISION_ANNOTATION.to_string(), pass.revision.to_string())]);
    annotations.extend(metadata.annotations);
    let run = AnalysisRun {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            namespace: pass.rollout.metadata.namespace.clone(),
            labels: Some(labels),
            annotations: Some(annotations),
            owner_references: Some(vec![controller_ref(pass.rollout)]),
            ..ObjectMeta::default()
        },
        spec: run_spec,
        status: None,
    };
    pass.plan.actions.push(Action::CreateAnalysisRun(Box::new(run)));
    pass.event(Event::normal(
        reason::ANALYSIS_RUN_CREATED,
        format!("Created {} AnalysisRun '{name}'", kind.label()),
    ));
    Some(name)
}

/// Terminates every unfinished run (abort, full promotion, fast-track).
pub fn terminate_all(pass: &mut Pass<'_>) {
    let runs: Vec<&AnalysisRun> = pass.snap.runs.iter().collect();
    for run in runs {
        terminate(pass, Some(run));
    }
}

/// Terminates unfinished runs that are not current, and deletes finished ones beyond the history
/// limits (newest kept). Runs of ReplicaSets that still exist count as history like any other.
pub fn cleanup(pass: &mut Pass<'_>) {
    let current = pass.runs.clone();
    let names = current.names();
    let others: Vec<&AnalysisRun> = pass
        .snap
        .runs
        .iter()
        .filter(|r| !names.contains(&r.metadata.name.as_deref().unwrap_or_default()))
        .collect();
    for run in &others {
        terminate(pass, Some(run));
    }
    let (keep_ok, keep_bad) = pass.rollout.spec.effective_analysis_history();
    let mut finished: Vec<&AnalysisRun> = others.into_iter().filter(|r| is_completed(phase(r))).collect();
    finished.sort_by(|a, b| b.metadata.creation_timestamp.cmp(&a.metadata.creation_timestamp));
    let (mut ok, mut bad) = (0, 0);
    for run in finished {
        let counter = if phase(run) == Some(AnalysisPhase::Successful) {
            ok += 1;
            (ok, keep_ok)
        } else {
            bad += 1;
            (bad, keep_bad)
        };
        if counter.0 > counter.1
            && run.metadata.deletion_timestamp.is_none()
            && let Some(name) = run.metadata.name.clone()
        {
            pass.plan.actions.push(Action::DeleteAnalysisRun { name });
        }
    }
}

/// The status entry of a current run, with Argo's `AnalysisRun<Phase>` event when its phase changed.
pub fn run_status(
    pass: &mut Pass<'_>,
    name: Option<&str>,
    previous: Option<&RolloutAnalysisRunStatus>,
    kind: &str,
) -> Option<RolloutAnalysisRunStatus> {
    let name = name?;
    let run = find(pass, Some(name));
    let status = RolloutAnalysisRunStatus {
        name: name.to_string(),
        status: run.and_then(phase),
        message: run.map(message).filter(|m| !m.is_empty()),
    };
    if let Some(now) = status.status
        && previous.is_none_or(|p| p.name == name && p.status != Some(now))
    {
        let before = previous
            .and_then(|p| p.status)
            .map_or_else(|| "NoPreviousStatus".to_string(), |p| format!("{p:?}"));
        let text = format!("{kind} Analysis Run '{name}' Status New: '{now:?}' Previous: '{before}'");
        let reason = match now {
            AnalysisPhase::Pending => "AnalysisRunPending",
            AnalysisPhase::Running => "AnalysisRunRunning",
            AnalysisPhase::Successful => "AnalysisRunSuccessful",
            AnalysisPhase::Failed => "AnalysisRunFailed",
            AnalysisPhase::Error => "AnalysisRunError",
            AnalysisPhase::Inconclusive => "AnalysisRunInconclusive",
        };
        let event = if matches!(now, AnalysisPhase::Failed | AnalysisPhase::Error) {
            Event::warning(reason, text)
        } else {
            Event::normal(reason, text)
        };
        pass.event(event);
    }
    status.into()
}
