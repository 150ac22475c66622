//! The blue-green strategy (Argo's `rolloutBlueGreen`, `rollout/bluegreen.go`): the new ReplicaSet comes up beside the active one,
//! the preview Service points at it at once, the active Service is switched once it is saturated,
//! pre-promotion analysis passed and any pause ended; post-promotion analysis then decides whether
//! it becomes stable. The old active ReplicaSet is scaled down after `scaleDownDelaySeconds`.

use crds::rollout::{BlueGreenStatus, BlueGreenStrategy, PauseReason, RolloutStatus};
use jiff::SignedDuration;
use k8s_openapi::api::apps::v1::ReplicaSet;

use super::analysis::{self, RunKind};
use super::common::{
    annotate_deadline, base_status, cleanup_history, ensure_new_replicaset, promote, scale, scale_down_deadline,
};
use super::services::{point, selected_hash};
use super::{Pass, canary, restart, status};
use crate::rollout::identity::{available, hash_of, revision_of, spec_replicas, status_replicas};
use crate::rollout::plan::{Event, reason};

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

/// Plans one blue-green reconcile.
pub fn plan(pass: &mut Pass<'_>) {
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
            pass.event(Event::normal(reason::SKIP_STEPS, "Rollback to stable ReplicaSets"));
        }
        status.blue_green = Some(BlueGreenStatus {
            active_selector: state.active.clone(),
            preview_selector: state.preview.clone(),
            ..BlueGreenStatus::default()
        });
        return status::complete(pass, status);
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
    restart::plan(pass);
    let mut scaled = pass.new_size.is_some();
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
    let status = blue_green_status(pass, &bg, state, &old_bg);
    status::complete(pass, status);
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
    old.sort_by_key(|rs| std::cmp::Reverse(revision_of(rs)));
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

/// What the steps towards the switch look at, read once per pass.
struct Progress<'a> {
    /// The new ReplicaSet.
    new: &'a ReplicaSet,
    /// It has all the pods it should have now, available.
    saturated: bool,
    /// The active Service already selects it.
    new_is_active: bool,
    /// Nothing was active or stable yet.
    first_deploy: bool,
    /// Going back to a ReplicaSet still within its scale-down delay or the rollback window.
    fast_track: bool,
    /// The pre-promotion run of the stored status.
    pre_name: Option<String>,
    /// The post-promotion run of the stored status.
    post_name: Option<String>,
}

/// Whether to go on towards the switch in this pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Gate {
    /// Go on.
    Open,
    /// Stop here (waiting on pods, an analysis or a pause).
    Closed,
}

/// Pre-promotion analysis, the pause, the active switch and post-promotion analysis.
fn progress(pass: &mut Pass<'_>, bg: &BlueGreenStrategy, state: &mut State, active_name: &str, desired_new: i32) {
    let Some(new) = pass.sets.new else { return };
    let old_bg = pass.old.blue_green.clone().unwrap_or_default();
    let step = Progress {
        new,
        saturated: spec_replicas(new) == desired_new && available(new) >= desired_new,
        new_is_active: state.active.as_deref() == Some(pass.hash.as_str()),
        first_deploy: state.active.is_none() || pass.old.stable_rs.is_none(),
        fast_track: scale_down_deadline(new).is_some() || canary::rollback_within_window(pass),
        pre_name: old_bg.pre_promotion_analysis_run_status.map(|s| s.name),
        post_name: old_bg.post_promotion_analysis_run_status.map(|s| s.name),
    };
    if pass.pause.is_aborted() {
        analysis::terminate_all(pass);
        pass.runs.pre = step.pre_name;
        pass.runs.post = step.post_name;
        if let Some(stable) = pass.old.stable_rs.clone() {
            let target = rs_named(pass, Some(&stable));
            state.active = point(pass, active_name, &stable, target, true);
        }
        return;
    }
    // Each gate is looked at only once the ones before it are open.
    let open = pre_promotion(pass, bg, &step) == Gate::Open
        && pause_before_switch(pass, bg, state, &step) == Gate::Open
        && ready_to_switch(pass, state, desired_new) == Gate::Open;
    if !open {
        return analysis_cleanup(pass, step.post_name);
    }
    if !step.new_is_active {
        switch_active(pass, bg, state, active_name, step.new);
        return analysis_cleanup(pass, step.post_name);
    }
    if scale_down_deadline(new).is_some() {
        annotate_deadline(pass, new, None);
    }
    match &bg.post_promotion_analysis {
        Some(spec) if pass.old.stable_rs.as_deref() != Some(pass.hash.as_str()) => {
            pass.runs.post = analysis::follow(pass, RunKind::PostPromotion, spec, step.post_name);
        }
        Some(_) => pass.runs.post = step.post_name,
        None => analysis::stop(pass, step.post_name.as_deref()),
    }
    analysis::cleanup(pass);
}

/// Pre-promotion analysis, while the new version waits to be switched to; the gate opens once the
/// new ReplicaSet is saturated and the run passed.
fn pre_promotion(pass: &mut Pass<'_>, bg: &BlueGreenStrategy, step: &Progress<'_>) -> Gate {
    let waiting_for_switch = !step.new_is_active && !step.first_deploy && !step.fast_track;
    let mut passed = true;
    match &bg.pre_promotion_analysis {
        Some(spec) if waiting_for_switch && step.saturated => {
            pass.runs.pre = analysis::follow(pass, RunKind::PrePromotion, spec, step.pre_name.clone());
            let run = analysis::find(pass, pass.runs.pre.as_deref());
            passed = run.is_some_and(|r| analysis::phase(r) == Some(crds::analysis::AnalysisPhase::Successful));
        }
        Some(_) if waiting_for_switch => {
            passed = false;
            pass.runs.pre.clone_from(&step.pre_name);
        }
        Some(_) => pass.runs.pre.clone_from(&step.pre_name),
        None => analysis::stop(pass, step.pre_name.as_deref()),
    }
    if step.saturated && passed && !pass.pause.adds_pause() && !pass.pause.is_aborted() {
        Gate::Open
    } else {
        Gate::Closed
    }
}

/// The pause before the switch (`autoPromotionEnabled: false`, or `autoPromotionSeconds`): the
/// gate opens when a person resumes or the seconds have passed.
fn pause_before_switch(pass: &mut Pass<'_>, bg: &BlueGreenStrategy, state: &mut State, step: &Progress<'_>) -> Gate {
    let auto = bg.effective_auto_promotion_enabled();
    let wants_pause = !auto || bg.auto_promotion_seconds.is_some_and(|s| s > 0);
    if !wants_pause
        || step.first_deploy
        || step.fast_track
        || step.new_is_active
        || state.checkpoint
        || pass.rollout.spec.is_paused()
    {
        return Gate::Open;
    }
    let Some(condition) = pass.pause.condition(PauseReason::BlueGreenPause).cloned() else {
        if pass.pause.controller_paused() {
            // A person resumed the rollout.
            state.checkpoint = true;
            return Gate::Open;
        }
        pass.pause.add(PauseReason::BlueGreenPause);
        pass.event(Event::normal(
            reason::ROLLOUT_PAUSED,
            "Rollout is paused (BlueGreenPause)",
        ));
        if let Some(seconds) = bg.auto_promotion_seconds.filter(|_| auto) {
            pass.plan
                .wake_at(pass.snap.now + SignedDuration::from_secs(i64::from(seconds)));
        }
        return Gate::Closed;
    };
    let resume_at = bg
        .auto_promotion_seconds
        .filter(|_| auto)
        .map(|s| condition.start_time.0 + SignedDuration::from_secs(i64::from(s)));
    match resume_at {
        Some(at) if at <= pass.snap.now => {
            pass.pause.remove(PauseReason::BlueGreenPause);
            state.checkpoint = true;
            Gate::Open
        }
        Some(at) => {
            pass.plan.wake_at(at);
            Gate::Closed
        }
        None => Gate::Closed,
    }
}

/// Not while paused by a person; and a preview at reduced size first grows to full size.
fn ready_to_switch(pass: &Pass<'_>, state: &mut State, desired_new: i32) -> Gate {
    if pass.rollout.spec.is_paused() {
        return Gate::Closed;
    }
    if desired_new < pass.rollout.spec.effective_replicas() {
        state.checkpoint = true;
        return Gate::Closed;
    }
    Gate::Open
}

/// Points the active Service at the new ReplicaSet; the previous one is scaled down after
/// `scaleDownDelaySeconds`.
fn switch_active(pass: &mut Pass<'_>, bg: &BlueGreenStrategy, state: &mut State, active_name: &str, new: &ReplicaSet) {
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

/// The blue-green fields of the new status: selectors, runs, and promotion.
fn blue_green_status(
    pass: &mut Pass<'_>,
    bg: &BlueGreenStrategy,
    mut state: State,
    old_bg: &BlueGreenStatus,
) -> RolloutStatus {
    let mut status = base_status(pass);
    status.available_replicas = Some(pass.sets.new.map_or(0, available));
    if let Some(active) = rs_named(pass, state.active.as_deref()) {
        status.hpa_replicas = Some(status_replicas(active));
        status.selector = Some(crds::meta::selector_string(&active.spec.selector));
    }
    if let Some(reason) = full_promotion_reason(pass, bg, &state) {
        promote(pass, &mut status, &reason);
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
    status
}
