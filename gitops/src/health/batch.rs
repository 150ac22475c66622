//! Jobs and HorizontalPodAutoscalers (gitops-engine's `health_job.go` and `health_hpa.go`).

use serde_json::Value;

use super::value::{flag, list, text};
use super::{Health, HealthStatus};

/// A Job by its `Complete`, `Failed` and `Suspended` conditions.
pub fn job(j: &Value) -> Health {
    let (mut failed, mut complete, mut suspended) = (None, None, None);
    for c in list(j, "/status/conditions") {
        let message = text(c, "/message").to_owned();
        let on = c["status"] == "True";
        match text(c, "/type") {
            "Failed" if on => failed = Some(message),
            "Complete" if on => complete = Some(message),
            "Suspended" if on => suspended = Some(message),
            _ => {}
        }
    }
    if let Some(message) = failed {
        return Health::new(HealthStatus::Degraded, message);
    }
    if let Some(message) = complete {
        return Health::new(HealthStatus::Healthy, message);
    }
    if let Some(message) = suspended.or_else(|| flag(j, "/spec/suspend").then(String::new)) {
        return Health::new(HealthStatus::Suspended, message);
    }
    Health::new(HealthStatus::Progressing, "")
}

const DEGRADED: &[(&str, &str)] = &[
    ("AbleToScale", "FailedGetScale"),
    ("AbleToScale", "FailedUpdateScale"),
    ("ScalingActive", "FailedGetResourceMetric"),
    ("ScalingActive", "InvalidSelector"),
    ("ScalingActive", "FailedGetExternalMetric"),
    ("ScalingActive", "FailedGetObjectMetric"),
    ("ScalingActive", "FailedGetPodsMetric"),
    ("ScalingActive", "FailedGetContainerResourceMetric"),
];

const HEALTHY: &[(&str, &str)] = &[
    ("AbleToScale", "SucceededRescale"),
    ("ScalingLimited", "DesiredWithinRange"),
    ("ScalingLimited", "TooFewReplicas"),
    ("ScalingLimited", "TooManyReplicas"),
    ("ScalingActive", "ScalingDisabled"),
];

/// An HPA by its conditions (`status.conditions`, or v1's conditions annotation): the first that
/// is known to be degraded or healthy decides; otherwise it waits to autoscale.
pub fn hpa(h: &Value) -> Health {
    let annotated: Vec<Value>;
    let conditions: &[Value] = if h["apiVersion"] == "autoscaling/v1" {
        let Some(raw) = h
            .pointer("/metadata/annotations/autoscaling.alpha.kubernetes.io~1conditions")
            .and_then(Value::as_str)
        else {
            return Health::new(HealthStatus::Progressing, "Waiting to Autoscale");
        };
        match serde_json::from_str::<Vec<Value>>(raw) {
            Ok(parsed) => {
                annotated = parsed;
                &annotated
            }
            Err(e) => {
                return Health::new(
                    HealthStatus::Unknown,
                    format!("failed to convert conditions annotation to typed: {e}"),
                );
            }
        }
    } else {
        list(h, "/status/conditions")
    };
    for c in conditions {
        let key = (text(c, "/type"), text(c, "/reason"));
        // v2 HPAs also say whether the condition holds: a degraded reason counts only when False.
        let holds = c.get("status").and_then(Value::as_str).is_none_or(|s| s == "True");
        if DEGRADED.contains(&key) && !(holds && c.get("status").is_some()) {
            return Health::new(HealthStatus::Degraded, text(c, "/message"));
        }
        if HEALTHY.contains(&key) {
            return Health::new(HealthStatus::Healthy, text(c, "/message"));
        }
    }
    Health::new(HealthStatus::Progressing, "Waiting to Autoscale")
}
