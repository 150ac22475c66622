//! The canary strategy without traffic routing (reference b2/b3/b4).

use crds::rollout::{CanaryStep, PauseReason, RolloutStatus};
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::analysis::{self, RunKind};
use super::common::{base_status, cleanup_history, ensure_new_replicaset, scale, size_created};
use super::{Pass, restart, services, status};
use crate::rollout::identity::{available, hash_of, revision_of, spec_replicas, status_replicas};
use crate::rollout::plan::RolloutEvent;
use crate::rollout::replicas::{Budget, CanaryScale, Counts, at_desired_counts, next_counts};

fn steps<'a>(pass: &Pass<'a>) -> &'a [CanaryStep] {
    pass.rollout
        .spec
        .strategy
        .as_ref()
        .and_then(|s| s.canary.as_ref())
        .map_or(&[], |c| c.steps.as_slice())
}

fn step_count(pass: &Pass<'_>) -> i32 {
    i32::try_from(steps(pass).len()).unwrap_or(i32::MAX)
}

/// The current step and its index (`None` past the last step or without steps).
fn current_step<'a>(pass: &Pass<'a>) -> Option<(usize, &'a CanaryStep)> {
    let index = usize::try_from(pass.old.current_step_index?).ok()?;
    steps(pass).get(index).map(|s| (index, s))
}

/// The weight the canary should have now (reference b3 point 2).
fn weight(pass: &Pass<'_>) -> i32 {
    if pass.pause.is_aborted() {
        return 0;
    }
    if pass.old.promote_full == Some(true) || pass.sets.stable.is_none() || pass.sets.new_is_stable() {
        return 100;
    }
    let Some((index, _)) = current_step(pass) else {
        return 100;
    };
    steps(pass)[..=index]
        .iter()
        .rev()
        .find_map(|s| s.set_weight)
        .unwrap_or(0)
}

fn budget(pass: &Pass<'_>) -> Budget {
    let replicas = pass.rollout.spec.effective_replicas();
    let canary = pass
        .rollout
        .spec
        .strategy
        .as_ref()
        .and_then(|s| s.canary.clone())
        .unwrap_or_default();
    Budget::resolve(
        replicas,
        &canary.effective_max_surge(),
        &canary.effective_max_unavailable(),
    )
    .unwrap_or(Budget {
        max_surge: 1,
        max_unavailable: 0,
    })
}

fn counts(rs: &ReplicaSet) -> Counts {
    Counts {
        spec: spec_replicas(rs),
        available: available(rs),
    }
}

/// The stable ReplicaSet when it is distinct from the new one.
fn distinct_stable<'a>(pass: &Pass<'a>) -> Option<&'a ReplicaSet> {
    if pass.sets.new_is_stable() {
        None
    } else {
        pass.sets.stable
    }
}

/// Whether the template or the steps changed since the stored status.
fn changed(pass: &Pass<'_>) -> bool {
    pass.old.current_pod_hash.as_deref() != Some(pass.hash.as_str())
        || pass.old.current_step_hash != crate::rollout::identity::steps_hash(pass.rollout)
}

/// Whether the new ReplicaSet is an older revision still within `rollbackWindow` (fast-tracked).
pub fn rollback_within_window(pass: &Pass<'_>) -> bool {
    let (Some(window), Some(new), Some(stable)) = (
        pass.rollout.spec.rollback_window.as_ref().and_then(|w| w.revisions),
        pass.sets.new,
        pass.sets.stable,
    ) else {
        return false;
    };
    let (new_rev, stable_rev) = (revision_of(&new.metadata), revision_of(&stable.metadata));
    if new_rev >= stable_rev {
        return false;
    }
    let between = pass
        .sets
        .all
        .iter()
        .filter(|rs| {
            let r = revision_of(&rs.metadata);
            r > new_rev && r < stable_rev
        })
        .count();
    i32::try_from(between).unwrap_or(i32::MAX) < window
}

/// One canary reconcile.
pub fn reconcile(pass: &mut Pass<'_>) {
    if changed(pass) {
        return reset(pass);
    }
    ensure_new_replicaset(pass, 0);
    restart::reconcile(pass);
    let keep = [pass.old.stable_rs.clone(), Some(pass.hash.clone())];
    let keep: Vec<Option<&str>> = keep.iter().map(Option::as_deref).collect();
    cleanup_history(pass, &keep);
    services::canary(pass);
    reconcile_analysis(pass);
    if !pass.pause.adds_pause() {
        let scaled = scale_replicasets(pass);
        if !scaled {
            reconcile_pause_step(pass);
        }
    }
    finish(pass);
}

/// A new template or new steps: start the steps over (or skip them when going back to stable).
fn reset(pass: &mut Pass<'_>) {
    let mut status = base_status(pass);
    status.current_step_hash = crate::rollout::identity::steps_hash(pass.rollout);
    status.promote_full = None;
    let count = step_count(pass);
    status.current_step_index = (count > 0).then_some(0);
    pass.pause.clear();
    pass.pause.remove_abort();
    let back_to_stable = pass.sets.new.is_some() && pass.old.stable_rs.as_deref() == pass.sets.new.and_then(hash_of);
    if (back_to_stable || rollback_within_window(pass)) && count > 0 {
        pass.event(RolloutEvent::normal("SkipSteps", "Rollback to stable ReplicaSets"));
        status.current_step_index = Some(count);
    }
    status::finish(pass, status);
}

fn reconcile_analysis(pass: &mut Pass<'_>) {
    let old_canary = pass.old.canary.clone().unwrap_or_default();
    let step_name = old_canary.current_step_analysis_run_status.map(|s| s.name);
    let background_name = old_canary.current_background_analysis_run_status.map(|s| s.name);
    let new_has_deadline = pass.sets.new.and_then(super::common::scale_down_deadline).is_some();
    let skip = pass.pause.is_aborted()
        || pass.old.promote_full == Some(true)
        || pass.old.stable_rs.is_none()
        || rollback_within_window(pass)
        || new_has_deadline;
    if skip {
        analysis::terminate_all(pass);
        pass.runs.step = step_name;
        pass.runs.background = background_name;
        return;
    }
    // The step run.
    let step = current_step(pass);
    let from_previous_step = step.is_some_and(|(index, _)| {
        analysis::find(pass, step_name.as_deref()).is_some_and(|run| {
            run.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(crate::rollout::labels::STEP_INDEX_LABEL))
                != Some(&index.to_string())
        })
    });
    if !pass.old.pause_conditions.is_empty() || pass.old.abort == Some(true) {
        pass.runs.step = step_name;
    } else {
        match step {
            Some((
                index,
                CanaryStep {
                    analysis: Some(spec), ..
                },
            )) if !from_previous_step => {
                let index = i32::try_from(index).unwrap_or(i32::MAX);
                pass.runs.step = analysis::follow(pass, RunKind::Step(index), spec, step_name);
            }
            _ => analysis::stop(pass, step_name.as_deref()),
        }
    }
    // The background run.
    let background = pass
        .rollout
        .spec
        .strategy
        .as_ref()
        .and_then(|s| s.canary.as_ref())
        .and_then(|c| c.analysis.clone())
        .filter(|a| !a.analysis.templates.is_empty());
    match background {
        None => analysis::stop(pass, background_name.as_deref()),
        Some(bg) => {
            let before_start = bg
                .starting_step
                .is_some_and(|start| pass.old.current_step_index.unwrap_or(0) < start);
            let fully_promoted = pass.old.stable_rs.as_deref() == Some(pass.hash.as_str());
            if !(fully_promoted || before_start) {
                pass.runs.background = analysis::follow(pass, RunKind::Background, &bg.analysis, background_name);
            }
        }
    }
    analysis::cleanup(pass);
}

/// Drains older ReplicaSets, then scales stable and new toward the weight. Returns whether anything
/// was scaled.
fn scale_replicasets(pass: &mut Pass<'_>) -> bool {
    let replicas = pass.rollout.spec.effective_replicas();
    let budget = budget(pass);
    let stable = distinct_stable(pass);
    // Older ReplicaSets first, within the availability budget.
    let total_available: i32 = pass.sets.all.iter().map(|rs| available(rs)).sum();
    let mut max_scale_down = total_available - (replicas - budget.max_unavailable);
    let mut older: Vec<&ReplicaSet> = pass
        .sets
        .older
        .iter()
        .copied()
        .filter(|rs| spec_replicas(rs) > 0)
        .collect();
    older.sort_by(|a, b| a.metadata.creation_timestamp.cmp(&b.metadata.creation_timestamp));
    let mut scaled_down = false;
    for rs in older {
        // Pods that are not available can go at once.
        let unavailable = (spec_replicas(rs) - available(rs)).max(0);
        let allowed = unavailable + max_scale_down.max(0);
        let target = (spec_replicas(rs) - allowed).max(0);
        if target != spec_replicas(rs) {
            max_scale_down -= (spec_replicas(rs) - target - unavailable).max(0);
            scaled_down |= scale(pass, rs, target);
        }
    }
    if scaled_down {
        if pass.created.is_some() {
            size_created(pass, 0);
        }
        return true;
    }
    let older_total: i32 = pass.sets.older.iter().map(|rs| spec_replicas(rs)).sum();
    let new_counts = pass.sets.new.map_or_else(Counts::default, counts);
    let (new_target, stable_target) = next_counts(&CanaryScale {
        replicas,
        weight: weight(pass),
        budget,
        new: new_counts,
        stable: stable.map(counts),
        older: older_total,
    });
    let mut scaled = false;
    if let Some(rs) = stable {
        scaled |= scale(pass, rs, stable_target);
    }
    match pass.sets.new {
        Some(rs) => scaled |= scale(pass, rs, new_target),
        None => {
            size_created(pass, new_target);
            scaled = true;
        }
    }
    scaled
}

/// On a pause step: pause once (and wake at the end of a timed pause).
fn reconcile_pause_step(pass: &mut Pass<'_>) {
    if pass.rollout.spec.is_paused() || pass.pause.is_aborted() {
        return;
    }
    let Some((_, step)) = current_step(pass) else {
        return;
    };
    let Some(pause) = &step.pause else { return };
    match pass.pause.condition(PauseReason::CanaryPauseStep).cloned() {
        None if !pass.pause.controller_paused() => {
            pass.pause.add(PauseReason::CanaryPauseStep);
            pass.event(RolloutEvent::normal(
                "RolloutPaused",
                "Rollout is paused (CanaryPauseStep)",
            ));
            if let Some(seconds) = pause_seconds(pause.duration.as_ref()) {
                pass.plan
                    .wake_at(pass.snap.now + jiff::SignedDuration::from_secs(seconds));
            }
        }
        None => {}
        Some(condition) => {
            if let Some(seconds) = pause_seconds(pause.duration.as_ref()) {
                pass.plan
                    .wake_at(condition.start_time.0 + jiff::SignedDuration::from_secs(seconds));
            }
        }
    }
}

/// A pause step's duration in seconds.
fn pause_seconds(duration: Option<&IntOrString>) -> Option<i64> {
    match duration? {
        IntOrString::Int(n) => Some(i64::from(*n)),
        IntOrString::String(text) => crds::duration::parse(text).ok().map(|d| d.as_nanos() / 1_000_000_000),
    }
}

fn step_text(step: &CanaryStep) -> String {
    if let Some(w) = step.set_weight {
        format!("setWeight: {w}")
    } else if let Some(p) = &step.pause {
        match &p.duration {
            Some(IntOrString::Int(n)) => format!("pause: {n}s"),
            Some(IntOrString::String(s)) => format!("pause: {s}"),
            None => "pause".into(),
        }
    } else if step.analysis.is_some() {
        "analysis".into()
    } else if let Some(scale) = &step.set_canary_scale {
        format!("setCanaryScale: {}", serde_json::to_string(scale).unwrap_or_default())
    } else {
        "step".into()
    }
}

fn completed_current_step(pass: &Pass<'_>) -> bool {
    if pass.rollout.spec.is_paused() {
        return false;
    }
    let Some((_, step)) = current_step(pass) else {
        return false;
    };
    if let Some(pause) = &step.pause {
        let condition = pass.pause.condition(PauseReason::CanaryPauseStep);
        if pass.pause.controller_paused() && condition.is_none() {
            return true;
        }
        return match (condition, pause_seconds(pause.duration.as_ref())) {
            (Some(c), Some(seconds)) => pass.snap.now >= c.start_time.0 + jiff::SignedDuration::from_secs(seconds),
            _ => false,
        };
    }
    if step.set_weight.is_some() || step.set_canary_scale.is_some() {
        let Some(new) = pass.sets.new else { return false };
        let stable = distinct_stable(pass).map(|rs| (counts(rs), status_replicas(rs)));
        let older_available: i32 = pass.sets.older.iter().map(|rs| available(rs)).sum();
        let threshold = progress_threshold(pass);
        return at_desired_counts(
            pass.rollout.spec.effective_replicas(),
            weight(pass),
            budget(pass),
            counts(new),
            stable,
            older_available,
            threshold,
        );
    }
    if step.analysis.is_some() {
        let run = analysis::find(pass, pass.runs.step.as_deref());
        return run.is_some_and(|r| analysis::phase(r) == Some(crds::analysis::AnalysisPhase::Successful));
    }
    false
}

/// `replicaProgressThreshold` as a number of pods.
fn progress_threshold(pass: &Pass<'_>) -> Option<i32> {
    let threshold = pass
        .rollout
        .spec
        .strategy
        .as_ref()?
        .canary
        .as_ref()?
        .replica_progress_threshold
        .clone()?;
    let (desired, _) = crate::rollout::replicas::ideal_split(
        pass.rollout.spec.effective_replicas(),
        weight(pass),
        budget(pass).max_surge > 0,
    );
    Some(match threshold.kind.as_str() {
        "Pods" => threshold.value,
        _ => (desired * threshold.value + 99) / 100,
    })
}

/// Why the new ReplicaSet should become stable now, if it should.
fn full_promotion_reason(pass: &Pass<'_>) -> Option<String> {
    if pass.sets.stable.is_none() {
        return Some("Initial deploy".into());
    }
    if pass.pause.is_aborted() {
        return None;
    }
    let new = pass.sets.new?;
    if available(new) != pass.rollout.spec.effective_replicas() {
        return None;
    }
    if pass.old.promote_full == Some(true) {
        return Some("Full promotion requested".into());
    }
    let count = step_count(pass);
    let done = count == 0 || pass.old.current_step_index == Some(count);
    done.then(|| format!("Completed all {count} canary steps"))
}

/// Makes the new ReplicaSet stable.
pub fn promote(pass: &mut Pass<'_>, status: &mut RolloutStatus, reason: &str) {
    pass.pause.clear();
    pass.pause.remove_abort();
    status.promote_full = None;
    if pass.rollout.spec.strategy.as_ref().is_some_and(|s| s.canary.is_some()) {
        let count = step_count(pass);
        status.current_step_index = (count > 0).then_some(count);
    }
    if status.stable_rs.as_deref() != Some(pass.hash.as_str()) {
        status.stable_rs = Some(pass.hash.clone());
        pass.event(RolloutEvent::normal(
            "RolloutCompleted",
            format!(
                "Rollout completed update to revision {} ({}): {reason}",
                pass.revision, pass.hash
            ),
        ));
    }
}

/// The canary status: step progression, promotion, then conditions and phase.
fn finish(pass: &mut Pass<'_>) {
    let mut status = base_status(pass);
    status.current_step_hash = crate::rollout::identity::steps_hash(pass.rollout);
    let count = step_count(pass);
    let mut index = pass.old.current_step_index;
    if pass.old.promote_full == Some(true) {
        pass.pause.clear();
        pass.pause.remove_abort();
        if count > 0 {
            index = Some(count);
        }
    }
    let old_canary = pass.old.canary.clone().unwrap_or_default();
    let mut canary_status = crds::rollout::CanaryStatus::default();
    let step_name = pass.runs.step.clone();
    let background_name = pass.runs.background.clone();
    canary_status.current_step_analysis_run_status = analysis::run_status(
        pass,
        step_name.as_deref(),
        old_canary.current_step_analysis_run_status.as_ref(),
        "Step",
    );
    canary_status.current_background_analysis_run_status = analysis::run_status(
        pass,
        background_name.as_deref(),
        old_canary.current_background_analysis_run_status.as_ref(),
        "Background",
    );
    status.current_step_index = index;
    if let Some(reason) = full_promotion_reason(pass) {
        promote(pass, &mut status, &reason);
    } else if pass.pause.is_aborted() {
        if count > 0 {
            status.current_step_index = Some(if status.stable_rs.as_deref() == Some(pass.hash.as_str()) {
                count
            } else {
                0
            });
        }
    } else if completed_current_step(pass)
        && let Some(i) = index
    {
        let next = i + 1;
        status.current_step_index = Some(next);
        canary_status.current_step_analysis_run_status = None;
        if let Some((_, step)) = current_step(pass) {
            let text = step_text(step);
            pass.event(RolloutEvent::normal(
                "RolloutStepCompleted",
                format!("Rollout step {next}/{count} completed ({text})"),
            ));
        }
        pass.pause.remove(PauseReason::CanaryPauseStep);
    }
    if canary_status != crds::rollout::CanaryStatus::default() {
        status.canary = Some(canary_status);
    }
    status::finish(pass, status);
}
