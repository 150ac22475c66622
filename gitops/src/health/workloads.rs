//! Deployments, StatefulSets, ReplicaSets and DaemonSets (gitops-engine's `health_deployment.go`,
//! `health_statefulset.go`, `health_replicaset.go`, `health_daemonset.go`, which follow
//! `kubectl rollout status`).

use serde_json::Value;

use super::value::{condition, flag, int, opt_int, text};
use super::{Health, HealthStatus};

fn progressing(message: impl Into<String>) -> Health {
    Health::new(HealthStatus::Progressing, message)
}

fn observed(object: &Value) -> bool {
    int(object, "/metadata/generation") <= int(object, "/status/observedGeneration")
}

/// `getAppsv1DeploymentHealth`.
pub fn deployment(d: &Value) -> Health {
    if flag(d, "/spec/paused") {
        return Health::new(HealthStatus::Suspended, "Deployment is paused");
    }
    if !observed(d) {
        return progressing(
            "Waiting for rollout to finish: observed deployment generation less then desired generation",
        );
    }
    let name = text(d, "/metadata/name");
    let updated = int(d, "/status/updatedReplicas");
    let replicas = int(d, "/status/replicas");
    let available = int(d, "/status/availableReplicas");
    if condition(d, "Progressing").is_some_and(|c| c["reason"] == "ProgressDeadlineExceeded") {
        return Health::new(
            HealthStatus::Degraded,
            format!("Deployment {name:?} exceeded its progress deadline"),
        );
    }
    if let Some(desired) = opt_int(d, "/spec/replicas")
        && updated < desired
    {
        return progressing(format!(
            "Waiting for rollout to finish: {updated} out of {desired} new replicas have been updated..."
        ));
    }
    if replicas > updated {
        return progressing(format!(
            "Waiting for rollout to finish: {} old replicas are pending termination...",
            replicas - updated
        ));
    }
    if available < updated {
        return progressing(format!(
            "Waiting for rollout to finish: {available} of {updated} updated replicas are available..."
        ));
    }
    Health::healthy()
}

/// `getAppsv1StatefulSetHealth`.
pub fn stateful_set(s: &Value) -> Health {
    let observed_generation = int(s, "/status/observedGeneration");
    if observed_generation == 0 || int(s, "/metadata/generation") > observed_generation {
        return progressing("Waiting for statefulset spec update to be observed...");
    }
    let desired = opt_int(s, "/spec/replicas");
    let ready = int(s, "/status/readyReplicas");
    let updated = int(s, "/status/updatedReplicas");
    if let Some(desired) = desired
        && ready < desired
    {
        return progressing(format!("Waiting for {} pods to be ready...", desired - ready));
    }
    let strategy = text(s, "/spec/updateStrategy/type");
    if strategy == "RollingUpdate"
        && s.pointer("/spec/updateStrategy/rollingUpdate")
            .is_some_and(|r| !r.is_null())
    {
        if let (Some(desired), Some(partition)) = (desired, opt_int(s, "/spec/updateStrategy/rollingUpdate/partition"))
            && updated < desired - partition
        {
            return progressing(format!(
                "Waiting for partitioned roll out to finish: {updated} out of {} new pods have been updated...",
                desired - partition
            ));
        }
        return Health::new(
            HealthStatus::Healthy,
            format!("partitioned roll out complete: {updated} new pods have been updated..."),
        );
    }
    if strategy == "OnDelete" {
        return Health::new(HealthStatus::Healthy, format!("statefulset has {ready} ready pods"));
    }
    let (update_revision, current_revision) = (text(s, "/status/updateRevision"), text(s, "/status/currentRevision"));
    if update_revision != current_revision {
        return progressing(format!(
            "waiting for statefulset rolling update to complete {updated} pods at revision {update_revision}..."
        ));
    }
    Health::new(
        HealthStatus::Healthy,
        format!(
            "statefulset rolling update complete {} pods at revision {current_revision}...",
            int(s, "/status/currentReplicas")
        ),
    )
}

/// `getAppsv1ReplicaSetHealth`.
pub fn replica_set(r: &Value) -> Health {
    if !observed(r) {
        return progressing(
            "Waiting for rollout to finish: observed replica set generation less then desired generation",
        );
    }
    if let Some(failure) = condition(r, "ReplicaFailure").filter(|c| c["status"] == "True") {
        return Health::new(
            HealthStatus::Degraded,
            failure.get("message").and_then(Value::as_str).unwrap_or_default(),
        );
    }
    let available = int(r, "/status/availableReplicas");
    if let Some(desired) = opt_int(r, "/spec/replicas")
        && available < desired
    {
        return progressing(format!(
            "Waiting for rollout to finish: {available} out of {desired} new replicas are available..."
        ));
    }
    Health::healthy()
}

/// `getAppsv1DaemonSetHealth`.
pub fn daemon_set(d: &Value) -> Health {
    if !observed(d) {
        return progressing(
            "Waiting for rollout to finish: observed daemon set generation less then desired generation",
        );
    }
    let name = text(d, "/metadata/name");
    let updated = int(d, "/status/updatedNumberScheduled");
    let desired = int(d, "/status/desiredNumberScheduled");
    let available = int(d, "/status/numberAvailable");
    if text(d, "/spec/updateStrategy/type") == "OnDelete" {
        return Health::new(
            HealthStatus::Healthy,
            format!("daemon set {updated} out of {desired} new pods have been updated"),
        );
    }
    if updated < desired {
        return progressing(format!(
            "Waiting for daemon set {name:?} rollout to finish: {updated} out of {desired} new pods have been updated..."
        ));
    }
    if available < desired {
        return progressing(format!(
            "Waiting for daemon set {name:?} rollout to finish: {available} of {desired} updated pods are available..."
        ));
    }
    Health::healthy()
}
