//! The end of every reconcile: pause state, conditions, the progress deadline, phase and message
//! (Argo's `syncRolloutStatusCanary` / `syncRolloutStatusBlueGreen` and `calculateRolloutConditions`). Times in conditions only move when the condition changes, so an idle
//! Rollout's status stays byte-for-byte the same and nothing is written.

use crds::Rollout;
use crds::rollout::conditions::{
    AVAILABLE, COMPLETED, HEALTHY, INVALID_SPEC, PAUSED, PROGRESSING, condition, condition_with, find, reason,
    set_condition,
};
use crds::rollout::{RolloutCondition, RolloutPhase, RolloutStatus};
use jiff::SignedDuration;

use super::{Pass, restart};
use crate::rollout::plan::Event;

/// The phase and message of a Rollout (Argo's `rolloututil.GetRolloutPhase`), from its spec and a status.
#[must_use]
pub fn phase_of(rollout: &Rollout, status: &RolloutStatus) -> (RolloutPhase, String) {
    if let Some(c) = find(&status.conditions, INVALID_SPEC).filter(|c| c.status == "True") {
        return (
            RolloutPhase::Degraded,
            format!("InvalidSpec: {}", c.message.clone().unwrap_or_default()),
        );
    }
    if let Some(c) = status.conditions.iter().find(|c| {
        matches!(
            c.reason.as_deref(),
            Some(reason::ROLLOUT_ABORTED | reason::PROGRESS_DEADLINE_EXCEEDED)
        )
    }) {
        return (
            RolloutPhase::Degraded,
            format!(
                "{}: {}",
                c.reason.clone().unwrap_or_default(),
                c.message.clone().unwrap_or_default()
            ),
        );
    }
    if rollout.spec.is_paused() {
        return (RolloutPhase::Paused, "manually paused".into());
    }
    if let Some(p) = status.pause_conditions.first() {
        return (RolloutPhase::Paused, format!("{:?}", p.reason));
    }
    if rollout.spec.restart_at.is_some() && rollout.spec.restart_at != status.restarted_at {
        return (RolloutPhase::Progressing, "rollout is restarting".into());
    }
    let replicas = rollout.spec.effective_replicas();
    let updated = status.updated_replicas.unwrap_or(0);
    let available = status.available_replicas.unwrap_or(0);
    if updated < replicas {
        return (RolloutPhase::Progressing, "more replicas need to be updated".into());
    }
    if available < updated {
        return (
            RolloutPhase::Progressing,
            "updated replicas are still becoming available".into(),
        );
    }
    let current = status.current_pod_hash.as_deref();
    let blue_green = rollout.spec.strategy.as_ref().and_then(|s| s.blue_green.as_ref());
    if let Some(bg) = blue_green {
        let selectors = status.blue_green.clone().unwrap_or_default();
        if selectors.active_selector.as_deref() != current {
            return (RolloutPhase::Progressing, "active service cutover pending".into());
        }
        if status.stable_rs.as_deref() != current {
            let message = if bg.post_promotion_analysis.is_some() {
                "waiting for analysis to complete"
            } else {
                "waiting for post-promotion verification to complete"
            };
            return (RolloutPhase::Progressing, message.into());
        }
    } else {
        if status.replicas.unwrap_or(0) > updated {
            return (RolloutPhase::Progressing, "old replicas are pending termination".into());
        }
        if status.stable_rs.as_deref() != current {
            return (RolloutPhase::Progressing, "waiting for all steps to complete".into());
        }
    }
    (RolloutPhase::Healthy, String::new())
}

/// Whether the rollout is waiting on a step that legitimately takes time (pause or analysis), so
/// the progress deadline does not run.
fn waiting_on_step(pass: &Pass<'_>, status: &RolloutStatus) -> bool {
    let canary = pass.rollout.spec.strategy.as_ref().and_then(|s| s.canary.as_ref());
    let on_step = canary
        .zip(status.current_step_index)
        .and_then(|(c, i)| c.steps.get(usize::try_from(i).ok()?))
        .is_some_and(|s| s.pause.is_some() || s.analysis.is_some() || s.experiment.is_some());
    let bg_analysis = status.blue_green.as_ref().is_some_and(|b| {
        b.pre_promotion_analysis_run_status.is_some() || b.post_promotion_analysis_run_status.is_some()
    });
    on_step || bg_analysis
}

fn progressed(old: &RolloutStatus, new: &RolloutStatus) -> bool {
    old.replicas != new.replicas
        || old.updated_replicas != new.updated_replicas
        || old.ready_replicas != new.ready_replicas
        || old.available_replicas != new.available_replicas
        || old.current_step_index != new.current_step_index
        || old.current_pod_hash != new.current_pod_hash
        || old.stable_rs != new.stable_rs
}

/// What the conditions are computed from.
struct Facts {
    /// Name of the new ReplicaSet (or the one about to be created).
    new_name: String,
    /// Paused by a person or the controller.
    paused: bool,
    /// Fully promoted and every pod available.
    completed: bool,
}

/// Completes the strategy's new status (pause state, restart, conditions, phase and message) and
/// stores it in the plan.
pub fn complete(pass: &mut Pass<'_>, mut status: RolloutStatus) {
    let now = pass.now.clone();
    pass.pause.apply(&mut status, &now);
    if restart::pending(pass) && restart::finished(pass) {
        status.restarted_at.clone_from(&pass.rollout.spec.restart_at);
    }
    status.conditions = pass.old.conditions.clone();
    status.conditions.retain(|c| c.type_ != INVALID_SPEC);
    let replicas = pass.rollout.spec.effective_replicas();
    let facts = Facts {
        new_name: pass
            .sets
            .new
            .and_then(|rs| rs.metadata.name.clone())
            .unwrap_or_else(|| format!("{}-{}", pass.name(), pass.hash)),
        paused: pass.rollout.spec.is_paused() || !status.pause_conditions.is_empty(),
        completed: status.stable_rs.as_deref() == Some(pass.hash.as_str())
            && status.updated_replicas == Some(replicas)
            && status.available_replicas.unwrap_or(0) >= replicas
            && status.replicas == Some(replicas),
    };
    let progressing = progressing(pass, &mut status, &facts);
    set_condition(&mut status.conditions, progressing, &now);
    other_conditions(pass, &mut status, &facts);
    let (phase, message) = phase_of(pass.rollout, &status);
    let healthy = phase == RolloutPhase::Healthy;
    let healthy_message = if healthy {
        "Rollout is healthy"
    } else {
        "Rollout is not healthy"
    };
    let healthy = condition(HEALTHY, healthy, reason::ROLLOUT_HEALTHY, healthy_message);
    set_condition(&mut status.conditions, healthy, &now);
    status.phase = Some(phase);
    status.message = (!message.is_empty()).then_some(message);
    pass.plan.status = status;
}

/// The `Progressing` condition (Argo's `calculateRolloutConditions`): aborted, paused, done,
/// timed out (which aborts with `progressDeadlineAbort`), or progressing with its deadline.
fn progressing(pass: &mut Pass<'_>, status: &mut RolloutStatus, facts: &Facts) -> RolloutCondition {
    let now = pass.now.clone();
    let new_name = &facts.new_name;
    let old_progressing = find(&pass.old.conditions, PROGRESSING).cloned();
    let old_reason = old_progressing.as_ref().and_then(|c| c.reason.clone());
    if status.abort == Some(true) {
        let message = match (pass.pause.abort_message(), &old_progressing) {
            (None, Some(c)) if old_reason.as_deref() == Some(reason::ROLLOUT_ABORTED) => {
                c.message.clone().unwrap_or_default()
            }
            (Some(m), _) if !m.is_empty() => format!("Rollout aborted update to revision {}: {m}", pass.revision),
            _ => format!("Rollout aborted update to revision {}", pass.revision),
        };
        if old_reason.as_deref() != Some(reason::ROLLOUT_ABORTED) {
            pass.event(Event::warning(reason::ROLLOUT_ABORTED, message.clone()));
        }
        return condition(PROGRESSING, false, reason::ROLLOUT_ABORTED, message);
    }
    if facts.paused {
        return condition_with(PROGRESSING, "Unknown", reason::ROLLOUT_PAUSED, "Rollout is paused");
    }
    if facts.completed {
        let message = format!("ReplicaSet {new_name:?} has successfully progressed.");
        return condition(PROGRESSING, true, reason::NEW_REPLICA_SET_AVAILABLE, message);
    }
    let progressed = progressed(&pass.old, status);
    if old_reason.as_deref() == Some(reason::PROGRESS_DEADLINE_EXCEEDED) && !progressed {
        return old_progressing.unwrap_or_default();
    }
    let last_update = match &old_progressing {
        Some(c) if !progressed && old_reason.as_deref() == Some(reason::REPLICA_SET_UPDATED) => {
            c.last_update_time.clone().unwrap_or_else(|| now.clone())
        }
        _ => now.clone(),
    };
    let deadline =
        last_update.0 + SignedDuration::from_secs(i64::from(pass.rollout.spec.effective_progress_deadline_seconds()));
    let waiting = waiting_on_step(pass, status);
    if !waiting && pass.snap.now >= deadline {
        let message = format!("ReplicaSet {new_name:?} has timed out progressing.");
        pass.event(Event::warning(reason::PROGRESS_DEADLINE_EXCEEDED, message.clone()));
        if pass.rollout.spec.progress_deadline_abort == Some(true)
            && status.stable_rs.as_deref() != Some(pass.hash.as_str())
        {
            status.abort = Some(true);
            status.aborted_at = Some(now);
            status.pause_conditions.clear();
            status.controller_pause = None;
        }
        return condition(PROGRESSING, false, reason::PROGRESS_DEADLINE_EXCEEDED, message);
    }
    if !waiting {
        pass.plan.wake_at(deadline);
    }
    RolloutCondition {
        last_update_time: Some(last_update),
        ..condition(
            PROGRESSING,
            true,
            reason::REPLICA_SET_UPDATED,
            format!("ReplicaSet {new_name:?} is progressing."),
        )
    }
}

/// The `Available`, `Completed` and `Paused` conditions.
fn other_conditions(pass: &mut Pass<'_>, status: &mut RolloutStatus, facts: &Facts) {
    let now = pass.now.clone();
    let replicas = pass.rollout.spec.effective_replicas();
    let min_available = replicas - max_unavailable(pass.rollout);
    let available = status.available_replicas.unwrap_or(0) >= min_available;
    let available_message = if available {
        "Rollout has minimum availability"
    } else {
        "Rollout does not have minimum availability"
    };
    let available = condition(AVAILABLE, available, reason::AVAILABLE_REASON, available_message);
    set_condition(&mut status.conditions, available, &now);
    let completed_message = if facts.completed {
        format!("Rollout completed update to revision {}", pass.revision)
    } else {
        "Rollout not completed".to_string()
    };
    let done = condition(COMPLETED, facts.completed, reason::ROLLOUT_COMPLETED, completed_message);
    set_condition(&mut status.conditions, done, &now);
    let was_paused = find(&pass.old.conditions, PAUSED).is_some_and(|c| c.status == "True");
    if facts.paused {
        let paused = condition(PAUSED, true, reason::ROLLOUT_PAUSED, "Rollout is paused");
        set_condition(&mut status.conditions, paused, &now);
    } else if was_paused {
        let resumed = condition(PAUSED, false, reason::ROLLOUT_RESUMED, "Rollout is resumed");
        set_condition(&mut status.conditions, resumed, &now);
        pass.event(Event::normal(reason::ROLLOUT_RESUMED, "Rollout is resumed"));
    }
}

fn max_unavailable(rollout: &Rollout) -> i32 {
    let replicas = rollout.spec.effective_replicas();
    let strategy = rollout.spec.strategy.clone().unwrap_or_default();
    match (strategy.canary, strategy.blue_green) {
        (Some(c), _) => crate::rollout::replicas::Budget::resolve(
            replicas,
            &c.effective_max_surge(),
            &c.effective_max_unavailable(),
        )
        .map_or(0, |b| b.max_unavailable),
        _ => 0,
    }
}
