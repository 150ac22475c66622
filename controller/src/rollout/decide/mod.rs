//! The pure decision of one Rollout reconcile: snapshot + time in, [`Plan`] out.
//!
//! The order follows Argo's `rolloutCanary` / `rolloutBlueGreen`: a template or steps change only resets the
//! status; otherwise the new ReplicaSet is created or adopted, pods restarted, history trimmed,
//! services pointed, analysis runs reconciled, ReplicaSets scaled, pauses handled, and the status
//! (step index, stable hash, conditions, phase) rebuilt from scratch.

mod analysis;
mod bluegreen;
mod canary;
mod coalesce;
mod common;
mod invalid;
pub mod pause;
mod restart;
pub(crate) mod services;
mod status;
mod traffic;

use crds::Rollout;
use crds::rollout::RolloutStatus;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

pub use common::Sets;
pub use status::phase_of;

use self::analysis::CurrentRuns;
use self::pause::PauseCtx;
use super::plan::{Event, Plan};
use super::snapshot::Snapshot;

/// State shared by the steps of one decision.
#[derive(Debug)]
pub(crate) struct Pass<'a> {
    /// What was observed.
    pub snap: &'a Snapshot,
    /// The Rollout.
    pub rollout: &'a Rollout,
    /// Its stored status.
    pub old: RolloutStatus,
    /// Now, as a Kubernetes time.
    pub now: Time,
    /// Hash of the desired template.
    pub hash: String,
    /// ReplicaSets by role.
    pub sets: Sets<'a>,
    /// `Some(size)` when this pass creates the new ReplicaSet, with the size it gets.
    pub new_size: Option<i32>,
    /// Revision of the new ReplicaSet.
    pub revision: i64,
    /// Pause and abort changes.
    pub pause: PauseCtx,
    /// The AnalysisRuns that are current after this pass.
    pub runs: CurrentRuns,
    /// What to do.
    pub plan: Plan,
}

impl Pass<'_> {
    /// Records an event.
    pub fn event(&mut self, event: Event) {
        self.plan.events.push(event);
    }

    /// The Rollout's name.
    pub fn name(&self) -> &str {
        self.rollout.metadata.name.as_deref().unwrap_or_default()
    }
}

/// Decides what one reconcile of the snapshot's Rollout does.
#[must_use]
pub fn decide(snap: &Snapshot) -> Plan {
    let rollout = &snap.rollout;
    let old = rollout.status.clone().unwrap_or_default();
    let now = Time(snap.now);
    // "Could not read" is never a verdict on the spec (a missing template would be InvalidSpec).
    if !snap.unreadable.is_empty() {
        return Plan::undecided(old, snap.unreadable.clone());
    }
    if let Some(message) = invalid::problems(snap) {
        return invalid::plan(rollout, &old, &now, &message);
    }
    let desired = super::identity::desired_hash(rollout);
    let sets = Sets::classify(snap, &desired, old.stable_rs.as_deref());
    // A ReplicaSet adopted by template equality keeps its own hash (as in Argo).
    let hash = sets
        .new
        .and_then(super::identity::hash_of)
        .map_or(desired, str::to_owned);
    let mut pass = Pass {
        snap,
        rollout,
        pause: PauseCtx::new(&old),
        old,
        now,
        hash,
        sets,
        new_size: None,
        revision: 0,
        runs: CurrentRuns::default(),
        plan: Plan::default(),
    };
    let is_canary = rollout.spec.strategy.as_ref().is_some_and(|s| s.canary.is_some());
    if is_canary {
        canary::plan(&mut pass);
    } else {
        bluegreen::plan(&mut pass);
    }
    common::create_pending(&mut pass);
    let mut plan = pass.plan;
    if let Some(until) = coalesce::hold_until(snap, &pass.old, &plan.status) {
        plan.hold_status = true;
        plan.wake_at(until);
    }
    plan
}

#[cfg(test)]
mod tests;
