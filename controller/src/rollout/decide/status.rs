//! The end of every reconcile: pause state, conditions, the progress deadline, phase and message
//! (reference b8, b10). Times in conditions only move when the condition changes, so an idle
//! Rollout's status stays byte-for-byte the same and nothing is written.

use crds::Rollout;
use crds::rollout::{RolloutCondition, RolloutPhase, RolloutStatus};
use jiff::SignedDuration;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::{Pass, restart};
use crate::rollout::plan::RolloutEvent;

/// Condition type `Progressing`.
pub const PROGRESSING: &str = "Progressing";

/// Sets a condition; its times change only when its status, reason or message does. Returns whether
/// anything changed.
pub fn set_condition(conditions: &mut Vec<RolloutCondition>, mut condition: RolloutCondition, now: &Time) -> bool {
    match conditions.iter_mut().find(|c| c.type_ == condition.type_) {
        Some(existing)
            if existing.status == condition.status
                && existing.reason == condition.reason
                && existing.message == condition.message =>
        {
            if condition.last_update_time.is_some() && existing.last_update_time != condition.last_update_time {
                existing.last_update_time = condition.last_update_time;
                return true;
            }
            false
        }
        Some(existing) => {
            condition.last_update_time = condition.last_update_time.or_else(|| Some(now.clone()));
            condition.last_transition_time = if existing.status == condition.status {
                existing.last_transition_time.clone()
            } else {
                Some(now.clone())
            };
            *existing = condition;
            true
        }
        None => {
            condition.last_update_time = condition.last_update_time.or_else(|| Some(now.clone()));
            condition.last_transition_time = Some(now.clone());
            conditions.push(condition);
            true
        }
    }
}

fn condition(type_: &str, status: &str, reason: &str, message: impl Into<String>) -> RolloutCondition {
    RolloutCondition {
        type_: type_.into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(message.into()),
        ..RolloutCondition::default()
    }
}

fn find<'a>(conditions: &'a [RolloutCondition], type_: &str) -> Option<&'a RolloutCondition> {
    conditions.iter().find(|c| c.type_ == type_)
}

/// The phase and message of a Rollout (reference b8), from its spec and a status.
#[must_use]
pub fn phase_of(rollout: &Rollout, status: &RolloutStatus) -> (RolloutPhase, String) {
    if let Some(c) = find(&status.conditions, "InvalidSpec").filter(|c| c.status == "True") {
        return (
            RolloutPhase::Degraded,
            format!("InvalidSpec: {}", c.message.clone().unwrap_or_default()),
        );
    }
    if let Some(c) = status
        .conditions
        .iter()
        .find(|c| matches!(c.reason.as_deref(), Some("RolloutAborted" | "ProgressDeadlineExceeded")))
    {
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

/// Completes the new status and stores it in the plan.
pub fn finish(pass: &mut Pass<'_>, mut status: RolloutStatus) {
    let now = pass.now.clone();
    pass.pause.apply(&mut status, &now);
    if restart::pending(pass) && restart::finished(pass) {
        status.restarted_at.clone_from(&pass.rollout.spec.restart_at);
    }
    status.conditions = pass.old.conditions.clone();
    status.conditions.retain(|c| c.type_ != "InvalidSpec");
    let replicas = pass.rollout.spec.effective_replicas();
    let new_name = pass
        .sets
        .new
        .and_then(|rs| rs.metadata.name.clone())
        .unwrap_or_else(|| format!("{}-{}", pass.name(), pass.hash));
    let paused = pass.rollout.spec.is_paused() || !status.pause_conditions.is_empty();
    let aborted = status.abort == Some(true);
    let completed = status.stable_rs.as_deref() == Some(pass.hash.as_str())
        && status.updated_replicas == Some(replicas)
        && status.available_replicas.unwrap_or(0) >= replicas
        && status.replicas == Some(replicas);
    let old_progressing = find(&pass.old.conditions, PROGRESSING).cloned();
    let old_reason = old_progressing.as_ref().and_then(|c| c.reason.clone());
    let progressing = if aborted {
        let message = match (pass.pause.abort_message(), &old_progressing) {
            (None, Some(c)) if old_reason.as_deref() == Some("RolloutAborted") => c.message.clone().unwrap_or_default(),
            (Some(m), _) if !m.is_empty() => format!("Rollout aborted update to revision {}: {m}", pass.revision),
            _ => format!("Rollout aborted update to revision {}", pass.revision),
        };
        if old_reason.as_deref() != Some("RolloutAborted") {
            pass.event(RolloutEvent::warning("RolloutAborted", message.clone()));
        }
        condition(PROGRESSING, "False", "RolloutAborted", message)
    } else if paused {
        condition(PROGRESSING, "Unknown", "RolloutPaused", "Rollout is paused")
    } else if completed {
        condition(
            PROGRESSING,
            "True",
            "NewReplicaSetAvailable",
            format!("ReplicaSet {new_name:?} has successfully progressed."),
        )
    } else if old_reason.as_deref() == Some("ProgressDeadlineExceeded") && !progressed(&pass.old, &status) {
        old_progressing.clone().unwrap_or_default()
    } else {
        let touched = progressed(&pass.old, &status) || old_reason.as_deref() != Some("ReplicaSetUpdated");
        let last_update = if touched {
            now.clone()
        } else {
            old_progressing
                .as_ref()
                .and_then(|c| c.last_update_time.clone())
                .unwrap_or_else(|| now.clone())
        };
        let deadline = last_update.0
            + SignedDuration::from_secs(i64::from(pass.rollout.spec.effective_progress_deadline_seconds()));
        if !waiting_on_step(pass, &status) && pass.snap.now >= deadline {
            let message = format!("ReplicaSet {new_name:?} has timed out progressing.");
            pass.event(RolloutEvent::warning("ProgressDeadlineExceeded", message.clone()));
            if pass.rollout.spec.progress_deadline_abort == Some(true)
                && status.stable_rs.as_deref() != Some(pass.hash.as_str())
            {
                status.abort = Some(true);
                status.aborted_at = Some(now.clone());
                status.pause_conditions.clear();
                status.controller_pause = None;
            }
            condition(PROGRESSING, "False", "ProgressDeadlineExceeded", message)
        } else {
            if !waiting_on_step(pass, &status) {
                pass.plan.wake_at(deadline);
            }
            RolloutCondition {
                last_update_time: Some(last_update),
                ..condition(
                    PROGRESSING,
                    "True",
                    "ReplicaSetUpdated",
                    format!("ReplicaSet {new_name:?} is progressing."),
                )
            }
        }
    };
    set_condition(&mut status.conditions, progressing, &now);
    let min_available = replicas - max_unavailable(pass.rollout);
    let available = if status.available_replicas.unwrap_or(0) >= min_available {
        condition(
            "Available",
            "True",
            "AvailableReason",
            "Rollout has minimum availability",
        )
    } else {
        condition(
            "Available",
            "False",
            "AvailableReason",
            "Rollout does not have minimum availability",
        )
    };
    set_condition(&mut status.conditions, available, &now);
    let done = if completed {
        condition(
            "Completed",
            "True",
            "RolloutCompleted",
            format!("Rollout completed update to revision {}", pass.revision),
        )
    } else {
        condition("Completed", "False", "RolloutCompleted", "Rollout not completed")
    };
    set_condition(&mut status.conditions, done, &now);
    let was_paused = find(&pass.old.conditions, "Paused").is_some_and(|c| c.status == "True");
    if paused {
        set_condition(
            &mut status.conditions,
            condition("Paused", "True", "RolloutPaused", "Rollout is paused"),
            &now,
        );
    } else if was_paused {
        set_condition(
            &mut status.conditions,
            condition("Paused", "False", "RolloutResumed", "Rollout is resumed"),
            &now,
        );
        pass.event(RolloutEvent::normal("RolloutResumed", "Rollout is resumed"));
    }
    let (phase, message) = phase_of(pass.rollout, &status);
    let healthy = if phase == RolloutPhase::Healthy {
        condition("Healthy", "True", "RolloutHealthy", "Rollout is healthy")
    } else {
        condition("Healthy", "False", "RolloutHealthy", "Rollout is not healthy")
    };
    set_condition(&mut status.conditions, healthy, &now);
    status.phase = Some(phase);
    status.message = (!message.is_empty()).then_some(message);
    pass.plan.status = status;
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
