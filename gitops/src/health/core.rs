//! Pods, Services, Ingresses, PersistentVolumeClaims and APIServices (gitops-engine's
//! `health_pod.go`, `health_service.go`, `health_ingress.go`, `health_pvc.go`,
//! `health_apiservice.go`).

use serde_json::Value;

use super::value::{condition, int, list, text};
use super::{Health, HealthStatus};

/// A Service is Healthy, except a LoadBalancer without an ingress address yet.
pub fn service(s: &Value) -> Health {
    if text(s, "/spec/type") == "LoadBalancer" && list(s, "/status/loadBalancer/ingress").is_empty() {
        return Health::new(HealthStatus::Progressing, "");
    }
    Health::healthy()
}

/// An Ingress is Healthy once it has a load balancer address.
pub fn ingress(i: &Value) -> Health {
    if list(i, "/status/loadBalancer/ingress").is_empty() {
        Health::new(HealthStatus::Progressing, "")
    } else {
        Health::healthy()
    }
}

/// A claim by its phase.
pub fn pvc(p: &Value) -> Health {
    let status = match text(p, "/status/phase") {
        "Lost" => HealthStatus::Degraded,
        "Pending" => HealthStatus::Progressing,
        "Bound" => HealthStatus::Healthy,
        _ => HealthStatus::Unknown,
    };
    Health::new(status, "")
}

/// An APIService by its `Available` condition.
pub fn api_service(a: &Value) -> Health {
    match condition(a, "Available") {
        Some(c) => {
            let message = format!("{}: {}", text(c, "/reason"), text(c, "/message"));
            if c["status"] == "True" {
                Health::new(HealthStatus::Healthy, message)
            } else {
                Health::new(HealthStatus::Progressing, message)
            }
        }
        None => Health::new(HealthStatus::Progressing, "Waiting to be processed"),
    }
}

/// Why a terminated container failed, if it did.
fn fail_message(container: &Value) -> Option<String> {
    let terminated = container.pointer("/state/terminated").filter(|t| !t.is_null())?;
    let message = text(terminated, "/message");
    if !message.is_empty() {
        return Some(message.to_owned());
    }
    if text(terminated, "/reason") == "OOMKilled" {
        return Some("OOMKilled".into());
    }
    let code = int(terminated, "/exitCode");
    (code != 0).then(|| format!("container {:?} failed with exit code {code}", text(container, "/name")))
}

/// `getCorev1PodHealth`: waiting errors of always-restarting pods are Degraded; otherwise by phase,
/// with pods that restart on failure or never (hooks) Progressing while they run.
pub fn pod(p: &Value) -> Health {
    let restart_policy = match text(p, "/spec/restartPolicy") {
        "" => "Always",
        other => other,
    };
    let message = text(p, "/status/message").to_owned();
    let containers = list(p, "/status/containerStatuses");
    if restart_policy == "Always" {
        let failing: Vec<&str> = containers
            .iter()
            .filter_map(|c| c.pointer("/state/waiting").filter(|w| !w.is_null()))
            .filter(|w| {
                let reason = text(w, "/reason");
                reason.starts_with("Err") || reason.ends_with("Error") || reason.ends_with("BackOff")
            })
            .map(|w| text(w, "/message"))
            .collect();
        if !failing.is_empty() {
            return Health::new(HealthStatus::Degraded, failing.join(", "));
        }
    }
    match text(p, "/status/phase") {
        "Pending" => Health::new(HealthStatus::Progressing, message),
        "Succeeded" => Health::new(HealthStatus::Healthy, message),
        "Failed" => {
            if !message.is_empty() {
                return Health::new(HealthStatus::Degraded, message);
            }
            let all = list(p, "/status/initContainerStatuses").iter().chain(containers);
            let why = all.filter_map(fail_message).next().unwrap_or_default();
            Health::new(HealthStatus::Degraded, why)
        }
        "Running" if restart_policy == "Always" => {
            let ready = condition(p, "Ready").is_some_and(|c| c["status"] == "True");
            if ready {
                return Health::new(HealthStatus::Healthy, message);
            }
            let restarted = containers
                .iter()
                .any(|c| c.pointer("/lastState/terminated").is_some_and(|t| !t.is_null()));
            let status = if restarted {
                HealthStatus::Degraded
            } else {
                HealthStatus::Progressing
            };
            Health::new(status, message)
        }
        "Running" => Health::new(HealthStatus::Progressing, message),
        _ => Health::new(HealthStatus::Unknown, message),
    }
}
