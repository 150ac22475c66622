//! The blue-green strategy (reference b4/b9): the new ReplicaSet comes up beside the active one,
//! the preview Service points at it at once, the active Service is switched once it is saturated,
//! pre-promotion analysis passed and any pause ended; post-promotion analysis then decides whether
//! it becomes stable. The old active ReplicaSet is scaled down after `scaleDownDelaySeconds`.

use crds::rollout::{BlueGreenStatus, BlueGreenStrategy, PauseReason};
use jiff::SignedDuration;
use k8s_openapi::api::apps::v1::ReplicaSet;

use super::analysis::{self, RunKind};
use super::common::{base_status, cleanup_history, ensure_new_replicaset, scale, scale_down_deadline};
use super::services::{point, selected_hash};
use super::{Pass, canary, restart, status};
use crate::rollout::identity::{available, hash_of, revision_of, spec_replicas, status_replicas};
use crate::rollout::labels::SCALE_DOWN_DEADLINE_ANNOTATION;
use crate::rollout::plan::{Action, RolloutEvent};

fn strategy(pass: &Pass<'_>) -> BlueGreenStrategy {
    pass.rollout
        .spec
        .strategy
        .as_ref()
        .and_then(|s| s.blue_green.clone())
        .unwrap_or_default()
}

fn rs_named<'a>(pass: &Pass<'a>, hash: Option<&str>) -> Option<&'a ReplicaSet> {
    let hash = hash?;
    pass.sets.all.iter().copied().find(|rs| hash_of(rs) == Some(hash))
}

/// Mutable blue-green state of one pass.
struct State {
    active: Option<String>,
    preview: Option<String>,
    checkpoint: bool,
}

/// One blue-green reconcile.
pub fn reconcile(pass: &mut Pass<'_>) {
    let bg = strategy(pass);
    let active_name = bg.active_service.clone().unwrap_or_default();
    let old_bg = pass.old.blue_green.clone().unwrap_or_default();
    let mut state = State {
        active: pass
            .snap
            .services
            .get(&active_name)
            .and_then(selected_hash)
            .map(str::to_owned),
        preview: bg
            .preview_service
            .as_ref()
            .and_then(|p| pass.snap.services.get(p))
            .and_then(selected_hash)
            .map(str::to_owned),
        checkpoint: old_bg.scale_up_preview_check_point.unwrap_or(false),
    };
    if pass.old.current_pod_hash.as_deref() != Some(pass.hash.as_str()) {
        pass.pause.clear();
        pass.pause.remove_abort();
        let mut status = base_status(pass);
        status.promote_full = None;
        if pass.old.stable_rs.is_some() && pass.old.stable_rs.as_deref() == pass.sets.new.and_then(hash_of) {
            pass.event(RolloutEvent::normal("SkipSteps", "Rollback to stable ReplicaSets"));
        }
        status.blue_green = Some(BlueGreenStatus {
            active_selector: state.active.clone(),
            preview_selector: state.preview.clone(),
            ..BlueGreenStatus::default()
        });
        return status::finish(pass, status);
    }
    // The current runs stay current unless this pass decides otherwise.
    pass.runs.pre = old_bg
        .pre_promotion_analysis_run_status
        .as_ref()
        .map(|s| s.name.clone());
    pass.runs.post = old_bg
        .post_promotion_analysis_run_status
        .as_ref()
        .map(|s| s.name.clone());
    let replicas = pass.rollout.spec.effective_replicas();
    let aborted = pass.pause.is_aborted();
    let new_is_active = state.active.as_deref() == Some(pass.hash.as_str());
    let desired_new = match bg.preview_replica_count {
        Some(n) if !new_is_active && !state.checkpoint => n.min(replicas),
        _ => replicas,
    };
    ensure_new_replicaset(pass, desired_new);
    restart::reconcile(pass);
    let mut scaled = pass.created.is_some();
    // The new ReplicaSet: full size, or scaled down after an abort once its delay is over.
    if let Some(new) = pass.sets.new {
        let target = if aborted && !pass.sets.new_is_stable() {
            aborted_preview_size(pass, new, &bg)
        } else {
            desired_new
        };
        scaled |= scale(pass, new, target);
    }
    scaled |= scale_down_old(pass, &bg, state.active.as_deref());
    let keep = [
        state.active.clone(),
        pass.old.stable_rs.clone(),
        Some(pass.hash.clone()),
    ];
    let keep: Vec<Option<&str>> = keep.iter().map(Option::as_deref).collect();
    cleanup_history(pass, &keep);
    if let Some(preview) = bg.preview_service.as_deref() {
        let hash = pass.hash.clone();
        let target = pass.sets.new;
        let before = state.preview.clone();
        state.preview = point(pass, preview, &hash, target, true);
        scaled |= before != state.preview;
    }
    if !scaled {
        progress(pass, &bg, &mut state, &active_name, desired_new);
    }
    finish(pass, &bg, state, &old_bg);
}

/// After an abort the new ReplicaSet keeps its pods for `abortScaleDownDelaySeconds` (0: forever).
fn aborted_preview_size(pass: &mut Pass<'_>, new: &ReplicaSet, bg: &BlueGreenStrategy) -> i32 {
    let delay = bg.effective_abort_scale_down_delay_seconds();
    if delay == 0 {
        return spec_replicas(new);
    }
    match scale_down_deadline(new) {
        Some(at) if at <= pass.snap.now => 0,
        Some(at) => {
            pass.plan.wake_at(at);
            spec_replicas(new)
        }
        None => {
            let at = pass.snap.now + SignedDuration::from_secs(i64::from(delay));
            annotate_deadline(pass, new, Some(at));
            pass.plan.wake_at(at);
            spec_replicas(new)
        }
    }
}

fn annotate_deadline(pass: &mut Pass<'_>, rs: &ReplicaSet, at: Option<jiff::Timestamp>) {
    pass.plan.actions.push(Action::AnnotateReplicaSet {
        name: rs.metadata.name.clone().unwrap_or_default(),
        key: SCALE_DOWN_DEADLINE_ANNOTATION.into(),
        value: at.map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()),
    });
}

/// Scales down ReplicaSets the active Service no longer selects, once their deadline passed.
fn scale_down_old(pass: &mut Pass<'_>, bg: &BlueGreenStrategy, active: Option<&str>) -> bool {
    let mut old: Vec<&ReplicaSet> = pass
        .sets
        .older
        .iter()
        .copied()
        .chain(pass.sets.stable.filter(|_| !pass.sets.new_is_stable()))
        .filter(|rs| hash_of(rs) != active && spec_replicas(rs) > 0)
        .collect();
    old.sort_by_key(|rs| std::cmp::Reverse(revision_of(&rs.metadata)));
    let limit = bg.scale_down_delay_revision_limit;
    let mut delayed = 0;
    let mut scaled = false;
    for rs in old {
        if let Some(at) = scale_down_deadline(rs) {
            delayed += 1;
            let over_limit = limit.is_some_and(|l| delayed > l);
            if !over_limit && at > pass.snap.now {
                pass.plan.wake_at(at);
                continue;
            }
        }
        scaled |= scale(pass, rs, 0);
    }
    scaled
}

/// Pre-promotion analysis, the pause, the active switch and post-promotion analysis.
fn progress(pass: &mut Pass<'_>, bg: &BlueGreenStrategy, state: &mut State, active_name: &str, desired_new: i32) {
    let Some(new) = pass.sets.new else { return };
    let saturated = spec_replicas(new) == desired_new && available(new) >= desired_new;
    let old_bg = pass.old.blue_green.clone().unwrap_or_default();
    let pre_name = old_bg.pre_promotion_analysis_run_status.map(|s| s.name);
    let post_name = old_bg.post_promotion_analysis_run_status.map(|s| s.name);
    let new_is_active = state.active.as_deref() == Some(pass.hash.as_str());
    let first_deploy = state.active.is_none() || pass.old.stable_rs.is_none();
    let fast_track = scale_down_deadline(new).is_some() || canary::rollback_within_window(pass);
    let aborted = pass.pause.is_aborted();
    if aborted {
        analysis::terminate_all(pass);
        pass.runs.pre = pre_name;
        pass.runs.post = post_name;
        if let Some(stable) = pass.old.stable_rs.clone() {
            let target = rs_named(pass, Some(&stable));
            state.active = point(pass, active_name, &stable, target, true);
        }
        return;
    }
    // Pre-promotion analysis: while the new version waits to be switched to.
    let mut pre_ok = true;
    match &bg.pre_promotion_analysis {
        Some(spec) if !new_is_active && !first_deploy && !fast_track && saturated => {
            pass.runs.pre = analysis::follow(pass, RunKind::PrePromotion, spec, pre_name);
            let run = analysis::find(pass, pass.runs.pre.as_deref());
            pre_ok = run.is_some_and(|r| analysis::phase(r) == Some(crds::analysis::AnalysisPhase::Successful));
        }
        Some(_) if !new_is_active && !first_deploy && !fast_track => {
            pre_ok = false;
            pass.runs.pre = pre_name;
        }
        Some(_) => pass.runs.pre = pre_name,
        None => analysis::stop(pass, pre_name.as_deref()),
    }
    if !saturated || !pre_ok || pass.pause.adds_pause() || pass.pause.is_aborted() {
        analysis_cleanup(pass, post_name);
        return;
    }
    // The pause before the switch.
    let wants_pause = !bg.effective_auto_promotion_enabled() || bg.auto_promotion_seconds.is_some_and(|s| s > 0);
    if wants_pause
        && !first_deploy
        && !fast_track
        && !new_is_active
        && !state.checkpoint
        && !pass.rollout.spec.is_paused()
    {
        match pass.pause.condition(PauseReason::BlueGreenPause).cloned() {
            None if !pass.pause.controller_paused() => {
                pass.pause.add(PauseReason::BlueGreenPause);
                pass.event(RolloutEvent::normal(
                    "RolloutPaused",
                    "Rollout is paused (BlueGreenPause)",
                ));
                if bg.effective_auto_promotion_enabled()
                    && let Some(seconds) = bg.auto_promotion_seconds
                {
                    pass.plan
                        .wake_at(pass.snap.now + SignedDuration::from_secs(i64::from(seconds)));
                }
                analysis_cleanup(pass, post_name);
                return;
            }
            // A person resumed the rollout.
            None => state.checkpoint = true,
            Some(condition) => {
                let auto = bg
                    .auto_promotion_seconds
                    .filter(|_| bg.effective_auto_promotion_enabled())
                    .map(|s| condition.start_time.0 + SignedDuration::from_secs(i64::from(s)));
                match auto {
                    Some(at) if at <= pass.snap.now => {
                        pass.pause.remove(PauseReason::BlueGreenPause);
                        state.checkpoint = true;
                    }
                    Some(at) => {
                        pass.plan.wake_at(at);
                        analysis_cleanup(pass, post_name);
                        return;
                    }
                    None => {
                        analysis_cleanup(pass, post_name);
                        return;
                    }
                }
            }
        }
    }
    if pass.rollout.spec.is_paused() {
        analysis_cleanup(pass, post_name);
        return;
    }
    // Preview at reduced size: grow to full size before switching.
    if desired_new < pass.rollout.spec.effective_replicas() {
        state.checkpoint = true;
        analysis_cleanup(pass, post_name);
        return;
    }
    // The switch.
    if !new_is_active {
        let previous = rs_named(pass, state.active.as_deref());
        let hash = pass.hash.clone();
        state.active = point(pass, active_name, &hash, Some(new), true);
        if let Some(previous) = previous
            && status_replicas(previous) + spec_replicas(previous) > 0
        {
            let at = pass.snap.now + SignedDuration::from_secs(i64::from(bg.effective_scale_down_delay_seconds()));
            annotate_deadline(pass, previous, Some(at));
            pass.plan.wake_at(at);
        }
        analysis_cleanup(pass, post_name);
        return;
    }
    if scale_down_deadline(new).is_some() {
        annotate_deadline(pass, new, None);
    }
    // Post-promotion analysis.
    match &bg.post_promotion_analysis {
        Some(spec) if pass.old.stable_rs.as_deref() != Some(pass.hash.as_str()) => {
            pass.runs.post = analysis::follow(pass, RunKind::PostPromotion, spec, post_name);
        }
        Some(_) => pass.runs.post = post_name,
        None => analysis::stop(pass, post_name.as_deref()),
    }
    analysis::cleanup(pass);
}

fn analysis_cleanup(pass: &mut Pass<'_>, post_name: Option<String>) {
    if pass.runs.post.is_none() {
        pass.runs.post = post_name;
    }
    analysis::cleanup(pass);
}

/// Why the new ReplicaSet should become stable now, if it should.
fn full_promotion_reason(pass: &Pass<'_>, bg: &BlueGreenStrategy, state: &State) -> Option<String> {
    if pass.sets.stable.is_none() {
        return Some("Initial deploy".into());
    }
    if pass.pause.is_aborted() || state.active.as_deref() != Some(pass.hash.as_str()) {
        return None;
    }
    if bg.post_promotion_analysis.is_some() {
        let run = analysis::find(pass, pass.runs.post.as_deref())?;
        if analysis::phase(run) != Some(crds::analysis::AnalysisPhase::Successful) {
            return None;
        }
    }
    Some("Completed blue-green update".into())
}

fn finish(pass: &mut Pass<'_>, bg: &BlueGreenStrategy, mut state: State, old_bg: &BlueGreenStatus) {
    let mut status = base_status(pass);
    status.available_replicas = Some(pass.sets.new.map_or(0, available));
    if let Some(active) = rs_named(pass, state.active.as_deref()) {
        status.hpa_replicas = Some(status_replicas(active));
        status.selector = Some(super::common::format_selector(&active.spec.selector));
    }
    if let Some(reason) = full_promotion_reason(pass, bg, &state) {
        super::canary::promote(pass, &mut status, &reason);
    }
    if state.active.as_deref() == Some(pass.hash.as_str()) {
        state.checkpoint = false;
    }
    let pre = pass.runs.pre.clone();
    let post = pass.runs.post.clone();
    let pre_status = analysis::run_status(
        pass,
        pre.as_deref(),
        old_bg.pre_promotion_analysis_run_status.as_ref(),
        "PrePromotion",
    );
    let post_status = analysis::run_status(
        pass,
        post.as_deref(),
        old_bg.post_promotion_analysis_run_status.as_ref(),
        "PostPromotion",
    );
    status.blue_green = Some(BlueGreenStatus {
        active_selector: state.active,
        preview_selector: state.preview,
        scale_up_preview_check_point: state.checkpoint.then_some(true),
        pre_promotion_analysis_run_status: pre_status,
        post_promotion_analysis_run_status: post_status,
    });
    status::finish(pass, status);
}
