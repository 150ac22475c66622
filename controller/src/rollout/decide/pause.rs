//! The pause protocol (Argo's `pauseContext`, `rollout/pause.go`): pause conditions added by the controller, removed by
//! people (promote) or by the controller when a timed pause ends, and the abort flag.

use crds::rollout::{PauseCondition, PauseReason, RolloutStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// Pause and abort changes collected during one reconcile, applied to the new status at the end.
#[derive(Clone, Debug, Default)]
pub struct PauseCtx {
    conditions: Vec<PauseCondition>,
    controller_pause: bool,
    abort: bool,
    aborted_at: Option<Time>,
    add: Vec<PauseReason>,
    remove: Vec<PauseReason>,
    clear: bool,
    add_abort: Option<String>,
    remove_abort: bool,
}

impl PauseCtx {
    /// Starts from the stored status.
    #[must_use]
    pub fn new(old: &RolloutStatus) -> Self {
        Self {
            conditions: old.pause_conditions.clone(),
            controller_pause: old.controller_pause.unwrap_or(false),
            abort: old.abort.unwrap_or(false),
            aborted_at: old.aborted_at.clone(),
            ..Self::default()
        }
    }

    /// Whether the update is aborted (stored, or decided in this reconcile).
    #[must_use]
    pub fn is_aborted(&self) -> bool {
        (self.abort || self.add_abort.is_some()) && !self.remove_abort
    }

    /// The abort message decided in this reconcile (an analysis failure), if any.
    #[must_use]
    pub fn abort_message(&self) -> Option<&str> {
        self.add_abort.as_deref()
    }

    /// Whether this reconcile decided to add a pause.
    #[must_use]
    pub fn adds_pause(&self) -> bool {
        !self.add.is_empty()
    }

    /// The stored pause condition with this reason.
    #[must_use]
    pub fn condition(&self, reason: PauseReason) -> Option<&PauseCondition> {
        self.conditions.iter().find(|c| c.reason == reason)
    }

    /// Whether the stored status says the controller paused the rollout.
    #[must_use]
    pub fn controller_paused(&self) -> bool {
        self.controller_pause
    }

    /// Pauses for `reason` (no-op when already paused for it).
    pub fn add(&mut self, reason: PauseReason) {
        if !self.add.contains(&reason) {
            self.add.push(reason);
        }
    }

    /// Drops the pause condition with `reason`.
    pub fn remove(&mut self, reason: PauseReason) {
        self.remove.push(reason);
    }

    /// Drops every pause condition.
    pub fn clear(&mut self) {
        self.clear = true;
    }

    /// Aborts the update with a message (first one wins).
    pub fn add_abort(&mut self, message: impl Into<String>) {
        if self.add_abort.is_none() {
            self.add_abort = Some(message.into());
        }
    }

    /// Leaves the aborted state.
    pub fn remove_abort(&mut self) {
        self.remove_abort = true;
    }

    /// Writes abort, pause conditions and controllerPause into the new status. An aborted rollout
    /// has no pause conditions; `controllerPause` survives only together with a pause condition.
    pub fn apply(&self, status: &mut RolloutStatus, now: &Time) {
        status.abort = None;
        status.aborted_at = None;
        status.pause_conditions.clear();
        status.controller_pause = None;
        if self.is_aborted() {
            status.abort = Some(true);
            status.aborted_at = Some(self.aborted_at.clone().unwrap_or_else(|| now.clone()));
            return;
        }
        if self.clear {
            return;
        }
        let mut controller_pause = self.controller_pause;
        let mut conditions: Vec<PauseCondition> = self
            .conditions
            .iter()
            .filter(|c| !self.remove.contains(&c.reason))
            .cloned()
            .collect();
        for reason in &self.add {
            if !self.conditions.iter().any(|c| c.reason == *reason) {
                conditions.push(PauseCondition {
                    reason: *reason,
                    start_time: now.clone(),
                });
                controller_pause = true;
            }
        }
        if !conditions.is_empty() {
            status.pause_conditions = conditions;
            status.controller_pause = Some(controller_pause);
        }
    }
}
