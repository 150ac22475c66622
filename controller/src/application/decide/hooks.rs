//! Where a hook stands, as gitops-engine's `getHookPhase` judges it: a Job by its `Complete` and
//! `Failed` conditions, a Pod by its phase, anything else by its health (no health check: done
//! once created).

use gitops::health::{self, HealthStatus};
use serde_json::Value;

/// A hook's phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HookPhase {
    /// Still running.
    Running,
    /// Finished well.
    Succeeded,
    /// Finished badly.
    Failed,
}

impl HookPhase {
    /// Argo CD's spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "Running",
            Self::Succeeded => "Succeeded",
            Self::Failed => "Failed",
        }
    }
}

fn condition_true(object: &Value, type_: &str) -> bool {
    object
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|c| c.iter().any(|c| c["type"] == type_ && c["status"] == "True"))
}

/// The phase of a live hook and why.
#[must_use]
pub fn phase(live: &Value) -> (HookPhase, String) {
    let kind = live["kind"].as_str().unwrap_or_default();
    match kind {
        "Job" if condition_true(live, "Complete") => (HookPhase::Succeeded, "job completed".into()),
        "Job" if condition_true(live, "Failed") => (HookPhase::Failed, "job failed".into()),
        "Job" => (HookPhase::Running, "job running".into()),
        "Pod" => match live.pointer("/status/phase").and_then(Value::as_str) {
            Some("Succeeded") => (HookPhase::Succeeded, "pod succeeded".into()),
            Some("Failed") => (HookPhase::Failed, "pod failed".into()),
            _ => (HookPhase::Running, "pod running".into()),
        },
        _ => match health::judge(live) {
            None => (HookPhase::Succeeded, "created".into()),
            Some(h) if h.status == HealthStatus::Healthy => (HookPhase::Succeeded, h.message),
            Some(h) if h.status == HealthStatus::Degraded => (HookPhase::Failed, h.message),
            Some(h) => (HookPhase::Running, h.message),
        },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn phases_of_jobs_pods_and_others() {
        let job = |t: &str| json!({"kind": "Job", "status": {"conditions": [{"type": t, "status": "True"}]}});
        assert_eq!(phase(&job("Complete")).0, HookPhase::Succeeded);
        assert_eq!(phase(&job("Failed")).0, HookPhase::Failed);
        assert_eq!(phase(&json!({"kind": "Job"})).0, HookPhase::Running);
        assert_eq!(
            phase(&json!({"kind": "Pod", "status": {"phase": "Failed"}})).0,
            HookPhase::Failed
        );
        assert_eq!(
            phase(&json!({"apiVersion": "v1", "kind": "ConfigMap"})).0,
            HookPhase::Succeeded
        );
    }
}
