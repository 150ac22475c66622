//! Where a canary stands in its steps, read from the Rollout alone (Argo's `GetCurrentCanaryStep`
//! and `GetCurrentSetWeight`), for the controller and for every client that shows it.

use super::{CanaryStep, CanaryStrategy, Rollout};

/// The step a canary is at.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CurrentStep<'a> {
    /// Its index in `spec.strategy.canary.steps`.
    pub index: usize,
    /// The step.
    pub step: &'a CanaryStep,
}

/// The weight the steps up to `index` ask for: the last `setWeight` at or before it, 0 when none
/// has been reached, 100 past the last step.
#[must_use]
pub fn weight_at(steps: &[CanaryStep], index: usize) -> i32 {
    if index >= steps.len() {
        return 100;
    }
    steps[..=index].iter().rev().find_map(|s| s.set_weight).unwrap_or(0)
}

impl Rollout {
    /// The canary strategy, when the Rollout uses one.
    #[must_use]
    pub fn canary(&self) -> Option<&CanaryStrategy> {
        self.spec.strategy.as_ref()?.canary.as_ref()
    }

    /// The canary steps (none for blue-green).
    #[must_use]
    pub fn steps(&self) -> &[CanaryStep] {
        self.canary().map_or(&[], |c| c.steps.as_slice())
    }

    /// How many canary steps there are.
    #[must_use]
    pub fn step_count(&self) -> i32 {
        i32::try_from(self.steps().len()).unwrap_or(i32::MAX)
    }

    /// The step `status.currentStepIndex` points at (`None` past the last step or without steps).
    #[must_use]
    pub fn current_step(&self) -> Option<CurrentStep<'_>> {
        let index = usize::try_from(self.status.as_ref()?.current_step_index?).ok()?;
        self.steps().get(index).map(|step| CurrentStep { index, step })
    }

    /// The weight the current step sets, as clients show it: 0 when aborted, 100 when the steps
    /// are done (Argo's `GetCurrentSetWeight`).
    #[must_use]
    pub fn current_set_weight(&self) -> i32 {
        let status = self.status.as_ref();
        if status.and_then(|s| s.abort) == Some(true) {
            return 0;
        }
        match status.and_then(|s| s.current_step_index) {
            Some(index) => weight_at(self.steps(), usize::try_from(index).unwrap_or(0)),
            None => 100,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rollout(index: Option<i32>, abort: bool) -> Rollout {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "metadata": {"name": "web"},
            "spec": {"strategy": {"canary": {"steps": [
                {"setWeight": 20}, {"pause": {}}, {"setWeight": 60}, {"pause": {"duration": "10s"}}
            ]}}},
            "status": {"currentStepIndex": index, "abort": abort}
        }))
        .unwrap()
    }

    #[test]
    fn the_set_weight_follows_the_current_step() {
        let cases = [
            (Some(0), false, 20, Some(0)),
            (Some(1), false, 20, Some(1)),
            (Some(2), false, 60, Some(2)),
            (Some(3), false, 60, Some(3)),
            (Some(4), false, 100, None),
            (None, false, 100, None),
            (Some(2), true, 0, Some(2)),
        ];
        for (index, abort, weight, step) in cases {
            let r = rollout(index, abort);
            assert_eq!(r.current_set_weight(), weight, "index {index:?}, abort {abort}");
            assert_eq!(r.current_step().map(|s| s.index), step, "index {index:?}");
        }
        assert_eq!(rollout(None, false).step_count(), 4);
    }

    #[test]
    fn weight_before_any_set_weight_is_zero() {
        let steps: Vec<CanaryStep> =
            serde_json::from_value(serde_json::json!([{"pause": {}}, {"setWeight": 50}])).unwrap();
        assert_eq!(weight_at(&steps, 0), 0);
        assert_eq!(weight_at(&steps, 1), 50);
        assert_eq!(weight_at(&steps, 2), 100);
    }
}
