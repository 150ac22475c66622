//! The canary strategy (Argo's `rolloutCanary`, `rollout/canary.go`); what a traffic router changes
//! lives in [`super::traffic`].
//!
//! What the steps say is read once per pass into a [`Canary`]; the weight is read once, after the
//! analysis of this pass could have aborted the update.

use crds::rollout::{CanaryStatus, CanaryStep, CanaryStrategy, CurrentStep, PauseReason, RolloutStatus, weight_at};
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::analysis::{self, RunKind};
use super::common::{base_status, cleanup_history, ensure_new_replicaset, promote, scale, size_new};
use super::{Pass, restart, services, status, traffic};
use crate::rollout::identity::{available, hash_of, revision_of, spec_replicas, status_replicas};
use crate::rollout::plan::{Event, reason};
use crate::rollout::replicas::{Budget, CanaryScale, Counts, at_desired_counts, next_counts};

/// What the spec and the stored status say about the canary, read once per pass.
struct Canary<'a> {
    /// The strategy.
    spec: &'a CanaryStrategy,
    /// Its steps.
    steps: &'a [CanaryStep],
    /// How many.
    count: i32,
    /// The step the stored status is at.
    current: Option<CurrentStep<'a>>,
    /// Surge and unavailability in pods.
    budget: Budget,
}

impl<'a> Canary<'a> {
    fn read(pass: &Pass<'a>, spec: &'a CanaryStrategy) -> Self {
        let rollout = pass.rollout;
        let replicas = rollout.spec.effective_replicas();
        let budget = Budget::resolve(replicas, &spec.effective_max_surge(), &spec.effective_max_unavailable())
            .unwrap_or(Budget {
                max_surge: 1,
                max_unavailable: 0,
            });
        Self {
            spec,
            steps: rollout.steps(),
            count: rollout.step_count(),
            current: rollout.current_step(),
            budget,
        }
    }

    /// The weight the canary should have now (Argo's `GetCurrentSetWeight`, with what this pass
    /// decided: an abort, a promotion, no stable yet).
    fn weight(&self, pass: &Pass<'_>) -> i32 {
        if pass.pause.is_aborted() {
            return 0;
        }
        if pass.old.promote_full == Some(true) || pass.sets.stable.is_none() || pass.sets.new_is_stable() {
            return 100;
        }
        self.current.map_or(100, |c| weight_at(self.steps, c.index))
    }
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
    let (new_rev, stable_rev) = (revision_of(new), revision_of(stable));
    if new_rev >= stable_rev {
        return false;
    }
    let between = pass
        .sets
        .all
        .iter()
        .filter(|rs| {
            let r = revision_of(rs);
            r > new_rev && r < stable_rev
        })
        .count();
    i32::try_from(between).unwrap_or(i32::MAX) < window
}

/// Plans one canary reconcile.
pub fn plan(pass: &mut Pass<'_>) {
    let Some(spec) = pass.rollout.canary() else { return };
    let canary = Canary::read(pass, spec);
    if changed(pass) {
        return reset(pass, &canary);
    }
    ensure_new_replicaset(pass, 0);
    restart::plan(pass);
    let keep = [pass.old.stable_rs.clone(), Some(pass.hash.clone())];
    let keep: Vec<Option<&str>> = keep.iter().map(Option::as_deref).collect();
    cleanup_history(pass, &keep);
    services::canary(pass);
    plan_analysis(pass, &canary);
    let weight = canary.weight(pass);
    let routed = traffic::plan(pass, weight);
    if !pass.pause.adds_pause() {
        let scaled = match routed {
            Some(r) => traffic::scale_replicasets(pass, weight, r),
            None => scale_replicasets(pass, &canary, weight),
        };
        if !scaled {
            plan_pause_step(pass, &canary);
        }
    }
    let mut status = step_status(pass, &canary, weight, routed);
    if let Some(r) = routed {
        let weights = traffic::weights(pass, r);
        status.canary.get_or_insert_with(CanaryStatus::default).weights = weights;
    }
    status::complete(pass, status);
}

/// A new template or new steps: start the steps over (or skip them when going back to stable).
fn reset(pass: &mut Pass<'_>, canary: &Canary<'_>) {
    let mut status = base_status(pass);
    status.current_step_hash = crate::rollout::identity::steps_hash(pass.rollout);
    status.promote_full = None;
    status.current_step_index = (canary.count > 0).then_some(0);
    pass.pause.clear();
    pass.pause.remove_abort();
    let back_to_stable = pass.sets.new.is_some() && pass.old.stable_rs.as_deref() == pass.sets.new.and_then(hash_of);
    if (back_to_stable || rollback_within_window(pass)) && canary.count > 0 {
        pass.event(Event::normal(reason::SKIP_STEPS, "Rollback to stable ReplicaSets"));
        status.current_step_index = Some(canary.count);
    }
    status::complete(pass, status);
}

/// The step and background runs: followed, started, or terminated when they stop mattering.
fn plan_analysis(pass: &mut Pass<'_>, canary: &Canary<'_>) {
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
    plan_step_run(pass, canary, step_name);
    plan_background_run(pass, canary, background_name);
    analysis::cleanup(pass);
}

/// The run of the current analysis step (a run left from an earlier step is stopped).
fn plan_step_run(pass: &mut Pass<'_>, canary: &Canary<'_>, step_name: Option<String>) {
    let from_previous_step = canary.current.is_some_and(|c| {
        analysis::find(pass, step_name.as_deref()).is_some_and(|run| {
            crds::keys::label(&run.metadata, crds::keys::STEP_INDEX_LABEL) != Some(c.index.to_string().as_str())
        })
    });
    if !pass.old.pause_conditions.is_empty() || pass.old.abort == Some(true) {
        pass.runs.step = step_name;
        return;
    }
    match canary.current {
        Some(CurrentStep {
            index,
            step: CanaryStep {
                analysis: Some(spec), ..
            },
        }) if !from_previous_step => {
            let index = i32::try_from(index).unwrap_or(i32::MAX);
            pass.runs.step = analysis::follow(pass, RunKind::Step(index), spec, step_name);
        }
        _ => analysis::stop(pass, step_name.as_deref()),
    }
}

/// The background run, from `startingStep` until the update is fully promoted.
fn plan_background_run(pass: &mut Pass<'_>, canary: &Canary<'_>, background_name: Option<String>) {
    let Some(background) = canary
        .spec
        .analysis
        .as_ref()
        .filter(|a| !a.analysis.templates.is_empty())
    else {
        return analysis::stop(pass, background_name.as_deref());
    };
    let before_start = background
        .starting_step
        .is_some_and(|start| pass.old.current_step_index.unwrap_or(0) < start);
    let fully_promoted = pass.old.stable_rs.as_deref() == Some(pass.hash.as_str());
    if !(fully_promoted || before_start) {
        pass.runs.background = analysis::follow(pass, RunKind::Background, &background.analysis, background_name);
    }
}

/// Drains older ReplicaSets, then scales stable and new toward `weight`. Returns whether anything
/// was scaled.
fn scale_replicasets(pass: &mut Pass<'_>, canary: &Canary<'_>, weight: i32) -> bool {
    let replicas = pass.rollout.spec.effective_replicas();
    let budget = canary.budget;
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
        return true;
    }
    let older_total: i32 = pass.sets.older.iter().map(|rs| spec_replicas(rs)).sum();
    let new_counts = pass.sets.new.map_or_else(Counts::default, counts);
    let (new_target, stable_target) = next_counts(&CanaryScale {
        replicas,
        weight,
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
            size_new(pass, new_target);
            scaled = true;
        }
    }
    scaled
}

/// On a pause step: pause once (and wake at the end of a timed pause).
fn plan_pause_step(pass: &mut Pass<'_>, canary: &Canary<'_>) {
    if pass.rollout.spec.is_paused() || pass.pause.is_aborted() {
        return;
    }
    let Some(pause) = canary.current.and_then(|c| c.step.pause.as_ref()) else {
        return;
    };
    let seconds = pause_seconds(pause.duration.as_ref());
    if seconds == Some(0) {
        // Completed the moment it is reached (see `zero_pause`): nothing to pause.
        return;
    }
    match pass.pause.condition(PauseReason::CanaryPauseStep).cloned() {
        None if !pass.pause.controller_paused() => {
            pass.pause.add(PauseReason::CanaryPauseStep);
            pass.event(Event::normal(
                reason::ROLLOUT_PAUSED,
                "Rollout is paused (CanaryPauseStep)",
            ));
            if let Some(seconds) = seconds {
                pass.plan
                    .wake_at(pass.snap.now + jiff::SignedDuration::from_secs(seconds));
            }
        }
        None => {}
        Some(condition) => {
            if let Some(seconds) = seconds {
                pass.plan
                    .wake_at(condition.start_time.0 + jiff::SignedDuration::from_secs(seconds));
            }
        }
    }
}

/// Whether `step` is a pause of zero seconds. Argo's `reconcileCanaryPause` pauses for it and
/// its `CompletedCanaryPauseStep` ends the pause on the next reconcile: two status writes and a
/// `Paused` phase for a wait of nothing. Here such a step is completed the moment it is reached,
/// in the same status write as the step before it.
fn zero_pause(step: &CanaryStep) -> bool {
    step.pause
        .as_ref()
        .is_some_and(|p| pause_seconds(p.duration.as_ref()) == Some(0))
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
    } else if let Some(route) = &step.set_header_route {
        format!("setHeaderRoute: {}", route.name)
    } else if let Some(route) = &step.set_mirror_route {
        format!("setMirrorRoute: {}", route.name)
    } else {
        "step".into()
    }
}

/// Whether the current step is done: its pause over, its weight reached, its analysis passed.
fn completed_current_step(pass: &Pass<'_>, canary: &Canary<'_>, weight: i32, routed: Option<traffic::Routed>) -> bool {
    if pass.rollout.spec.is_paused() {
        return false;
    }
    let Some(CurrentStep { step, .. }) = canary.current else {
        return false;
    };
    if zero_pause(step) {
        return true;
    }
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
        if let Some(routed) = routed {
            return traffic::step_reached(pass, weight, routed);
        }
        let Some(new) = pass.sets.new else { return false };
        let stable = distinct_stable(pass).map(|rs| (counts(rs), status_replicas(rs)));
        let older_available: i32 = pass.sets.older.iter().map(|rs| available(rs)).sum();
        return at_desired_counts(
            pass.rollout.spec.effective_replicas(),
            weight,
            canary.budget,
            counts(new),
            stable,
            older_available,
            progress_threshold(pass, canary, weight),
        );
    }
    if step.set_header_route.is_some() || step.set_mirror_route.is_some() {
        // Done once the routers carry the route (or its removal).
        return routed.is_some_and(|r| r.verified);
    }
    if step.analysis.is_some() {
        let run = analysis::find(pass, pass.runs.step.as_deref());
        return run.is_some_and(|r| analysis::phase(r) == Some(crds::analysis::AnalysisPhase::Successful));
    }
    false
}

/// `replicaProgressThreshold` as a number of pods.
fn progress_threshold(pass: &Pass<'_>, canary: &Canary<'_>, weight: i32) -> Option<i32> {
    let threshold = canary.spec.replica_progress_threshold.as_ref()?;
    let (desired, _) = crate::rollout::replicas::ideal_split(
        pass.rollout.spec.effective_replicas(),
        weight,
        canary.budget.max_surge > 0,
    );
    Some(match threshold.kind.as_str() {
        "Pods" => threshold.value,
        _ => (desired * threshold.value + 99) / 100,
    })
}

/// Why the new ReplicaSet should become stable now, if it should.
fn full_promotion_reason(pass: &Pass<'_>, canary: &Canary<'_>) -> Option<String> {
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
    let count = canary.count;
    let done = count == 0 || pass.old.current_step_index == Some(count);
    done.then(|| format!("Completed all {count} canary steps"))
}

/// The canary's fields of the new status: the analysis runs, step progression and promotion.
fn step_status(
    pass: &mut Pass<'_>,
    canary: &Canary<'_>,
    weight: i32,
    routed: Option<traffic::Routed>,
) -> RolloutStatus {
    let mut status = base_status(pass);
    status.current_step_hash = crate::rollout::identity::steps_hash(pass.rollout);
    let count = canary.count;
    status.current_step_index = pass.old.current_step_index;
    if pass.old.promote_full == Some(true) {
        pass.pause.clear();
        pass.pause.remove_abort();
        if count > 0 {
            status.current_step_index = Some(count);
        }
    }
    let mut canary_status = run_statuses(pass);
    if let Some(reason) = full_promotion_reason(pass, canary) {
        promote(pass, &mut status, &reason);
    } else if pass.pause.is_aborted() {
        if count > 0 {
            let at_stable = status.stable_rs.as_deref() == Some(pass.hash.as_str());
            status.current_step_index = Some(if at_stable { count } else { 0 });
        }
    } else if let (Some(current), Some(index)) = (canary.current, status.current_step_index)
        && completed_current_step(pass, canary, weight, routed)
    {
        let mut done = (index, current.step);
        loop {
            let next = done.0 + 1;
            let text = step_text(done.1);
            pass.event(Event::normal(
                reason::ROLLOUT_STEP_COMPLETED,
                format!("Rollout step {next}/{count} completed ({text})"),
            ));
            match canary.steps.get(usize::try_from(next).unwrap_or(usize::MAX)) {
                Some(step) if zero_pause(step) => done = (next, step),
                _ => break,
            }
        }
        status.current_step_index = Some(done.0 + 1);
        canary_status.current_step_analysis_run_status = None;
        pass.pause.remove(PauseReason::CanaryPauseStep);
    }
    if canary_status != CanaryStatus::default() {
        status.canary = Some(canary_status);
    }
    status
}

/// The status of the current step and background runs.
fn run_statuses(pass: &mut Pass<'_>) -> CanaryStatus {
    let old = pass.old.canary.clone().unwrap_or_default();
    let (step, background) = (pass.runs.step.clone(), pass.runs.background.clone());
    CanaryStatus {
        current_step_analysis_run_status: analysis::run_status(
            pass,
            step.as_deref(),
            old.current_step_analysis_run_status.as_ref(),
            "Step",
        ),
        current_background_analysis_run_status: analysis::run_status(
            pass,
            background.as_deref(),
            old.current_background_analysis_run_status.as_ref(),
            "Background",
        ),
        ..CanaryStatus::default()
    }
}
