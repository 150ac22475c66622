//! Argo's own kinds, as Argo CD's `resource_customizations/argoproj.io/<Kind>/health.lua` judge
//! them: Rollout, AnalysisRun, Experiment, ApplicationSet, and gitops-engine's Workflow check;
//! and a child Application (app of apps), which Argo CD stopped judging in 1.8.

use serde_json::Value;

use super::value::{at, flag, int, list, opt_int, opt_text, text};
use super::{Health, HealthStatus};

fn progressing(message: impl Into<String>) -> Health {
    Health::new(HealthStatus::Progressing, message)
}

/// The status a phase word names (`Paused` is Argo CD's Suspended).
fn from_phase(phase: &str) -> HealthStatus {
    match phase {
        "Healthy" => HealthStatus::Healthy,
        "Paused" | "Suspended" => HealthStatus::Suspended,
        "Progressing" => HealthStatus::Progressing,
        "Degraded" => HealthStatus::Degraded,
        "Missing" => HealthStatus::Missing,
        _ => HealthStatus::Unknown,
    }
}

/// Whether the controller has seen the Rollout's spec (v0.9 and earlier wrote a hash, not a
/// number: those count as observed), and a referenced workload's generation.
fn observed(r: &Value) -> bool {
    let Some(status) = at(r, "/status") else { return false };
    let observed = match status.get("observedGeneration") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.parse::<i64>().ok(),
        _ => None,
    };
    let generation = int(r, "/metadata/generation");
    let spec_seen = match observed {
        None => status.get("observedGeneration").is_some_and(|v| !v.is_null()),
        Some(o) => o >= generation,
    };
    let workload_seen = match (
        at(r, "/spec/workloadRef"),
        opt_text(r, "/metadata/annotations/rollout.argoproj.io~1workload-generation"),
    ) {
        (Some(_), Some(wanted)) => {
            let seen = r.pointer("/status/workloadObservedGeneration").map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            seen.as_deref() == Some(wanted)
        }
        _ => true,
    };
    spec_seen && workload_seen
}

/// A Rollout: the phase and message v1.0+ record, else the conditions, pause, replica counts and
/// selectors of older controllers.
pub fn rollout(r: &Value) -> Health {
    if !observed(r) {
        return progressing("Waiting for rollout spec update to be observed");
    }
    if let Some(phase) = opt_text(r, "/status/phase") {
        return Health::new(from_phase(phase), text(r, "/status/message"));
    }
    for c in list(r, "/status/conditions") {
        let degraded = c["type"] == "InvalidSpec"
            || (c["type"] == "Progressing"
                && matches!(text(c, "/reason"), "RolloutAborted" | "ProgressDeadlineExceeded"));
        if degraded {
            return Health::new(HealthStatus::Degraded, text(c, "/message"));
        }
    }
    let paused = flag(r, "/status/verifyingPreview")
        || !list(r, "/status/pauseConditions").is_empty()
        || flag(r, "/spec/paused");
    if paused {
        return Health::new(HealthStatus::Suspended, "Rollout is paused");
    }
    let Some(current) = opt_text(r, "/status/currentPodHash") else {
        return progressing("Waiting for rollout to finish: status has not been reconciled.");
    };
    let desired = opt_int(r, "/spec/replicas").unwrap_or(1);
    let updated = int(r, "/status/updatedReplicas");
    if updated < desired {
        return progressing("Waiting for roll out to finish: More replicas need to be updated");
    }
    if int(r, "/status/availableReplicas") < updated {
        return progressing("Waiting for roll out to finish: updated replicas are still becoming available");
    }
    let stable = opt_text(r, "/status/stableRS")
        .or_else(|| opt_text(r, "/status/canary/stableRS"))
        .unwrap_or_default();
    if at(r, "/spec/strategy/blueGreen").is_some() {
        if opt_text(r, "/status/blueGreen/activeSelector") != Some(current) {
            return progressing("active service cutover pending");
        }
        if !stable.is_empty() && stable != current {
            return progressing("waiting for analysis to complete");
        }
    } else if at(r, "/spec/strategy/canary").is_some() {
        if int(r, "/status/replicas") > updated {
            return progressing("Waiting for roll out to finish: old replicas are pending termination");
        }
        if stable.is_empty() || stable != current {
            return progressing("Waiting for rollout to finish steps");
        }
    }
    Health::healthy()
}

/// An AnalysisRun by its phase; the run's own message wins over the default one.
pub fn analysis_run(a: &Value) -> Health {
    if at(a, "/status").is_none() {
        return progressing("Waiting for analysis run to finish: status has not been reconciled.");
    }
    let message = |default: &str| opt_text(a, "/status/message").unwrap_or(default).to_owned();
    match text(a, "/status/phase") {
        "Pending" | "Running" => progressing("Analysis run is running"),
        "Successful" => Health::new(HealthStatus::Healthy, message("Analysis run completed successfully")),
        "Failed" => Health::new(HealthStatus::Degraded, message("Analysis run failed")),
        "Error" => Health::new(HealthStatus::Degraded, message("Analysis run had an error")),
        "Inconclusive" => Health::new(HealthStatus::Unknown, message("Analysis run was inconclusive")),
        _ => progressing(""),
    }
}

/// An Experiment by its phase.
pub fn experiment(e: &Value) -> Health {
    if at(e, "/status").is_none() {
        return progressing("Waiting for experiment to finish: status has not been reconciled.");
    }
    match text(e, "/status/phase") {
        "Pending" => progressing("Experiment is pending"),
        "Running" => progressing("Experiment is running"),
        "Successful" => Health::new(HealthStatus::Healthy, "Experiment is successful"),
        "Failed" => Health::new(HealthStatus::Degraded, "Experiment has failed"),
        "Error" => Health::new(HealthStatus::Degraded, "Experiment had an error"),
        _ => progressing(""),
    }
}

/// An ApplicationSet by its conditions: an error or resources not up to date are Degraded, a
/// progressive rollout Progressing, resources up to date Healthy.
pub fn application_set(s: &Value) -> Health {
    let conditions = list(s, "/status/conditions");
    let find = |type_: &str, status: &str| {
        conditions
            .iter()
            .find(|c| c["type"] == type_ && c["status"] == status)
            .map(|c| text(c, "/message"))
    };
    if let Some(message) = find("ErrorOccurred", "True").or_else(|| find("ResourcesUpToDate", "False")) {
        return Health::new(HealthStatus::Degraded, message);
    }
    if let Some(message) = find("RolloutProgressing", "True") {
        return progressing(message);
    }
    if let Some(message) = find("ResourcesUpToDate", "True") {
        return Health::new(HealthStatus::Healthy, message);
    }
    progressing("Waiting for the status to be reported")
}

/// A child Application by its own health, as the check Argo CD documents for users to add back
/// (`resource.customizations.health.argoproj.io_Application`) so that sync waves wait for the
/// children: its `status.health`, Progressing while its own sync runs or before it reports one.
pub fn application(a: &Value) -> Health {
    if text(a, "/status/operationState/phase") == "Running" {
        return progressing(text(a, "/status/operationState/message"));
    }
    let message = text(a, "/status/health/message");
    match text(a, "/status/health/status") {
        "Healthy" => Health::new(HealthStatus::Healthy, message),
        "Suspended" => Health::new(HealthStatus::Suspended, message),
        "Degraded" => Health::new(HealthStatus::Degraded, message),
        "Missing" => Health::new(HealthStatus::Missing, message),
        "Unknown" => Health::new(HealthStatus::Unknown, message),
        "Progressing" => progressing(message),
        _ => progressing("Waiting for the Application to report its health"),
    }
}

/// gitops-engine's `getArgoWorkflowHealth`: by the workflow's phase.
pub fn workflow(w: &Value) -> Health {
    let message = text(w, "/status/message");
    match text(w, "/status/phase") {
        "" | "Pending" | "Running" => progressing(message),
        "Succeeded" => Health::new(HealthStatus::Healthy, message),
        "Failed" | "Error" => Health::new(HealthStatus::Degraded, message),
        _ => Health::new(HealthStatus::Unknown, message),
    }
}
