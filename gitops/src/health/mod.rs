//! Resource health as Argo CD assesses it: gitops-engine's built-in checks
//! (`pkg/health/health_*.go`) for the Kubernetes kinds and Argo CD's `argoproj.io` rules
//! (`resource_customizations/argoproj.io/*/health.lua`), written in Rust, over objects as the
//! cluster stores them (any served version). [`assess`] answers `None` for a kind that has no
//! health of its own; [`worst`] folds the health of an application's resources.

mod argo;
mod batch;
mod core;
mod value;
mod workloads;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Argo CD's health codes, from the healthiest to the least healthy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum HealthStatus {
    /// Fully working.
    Healthy,
    /// Paused on purpose (a paused Deployment, a Rollout at a pause step, a suspended Job).
    Suspended,
    /// Not yet healthy, but on its way.
    Progressing,
    /// Declared but absent from the cluster.
    Missing,
    /// Failed, or could not become healthy in time.
    Degraded,
    /// Health could not be assessed.
    Unknown,
}

impl HealthStatus {
    /// The code as Argo CD spells it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Healthy => "Healthy",
            Self::Suspended => "Suspended",
            Self::Progressing => "Progressing",
            Self::Missing => "Missing",
            Self::Degraded => "Degraded",
            Self::Unknown => "Unknown",
        }
    }

    /// Argo CD's `IsWorse`: whether `other` is a worse condition than `self`.
    #[must_use]
    pub fn is_worse(self, other: Self) -> bool {
        other > self
    }
}

impl std::fmt::Display for HealthStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A health assessment: the code and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// The code.
    pub status: HealthStatus,
    /// Why (may be empty).
    pub message: String,
}

impl Health {
    /// A health with a message.
    #[must_use]
    pub fn new(status: HealthStatus, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// Healthy, with nothing to say.
    #[must_use]
    pub fn healthy() -> Self {
        Self::new(HealthStatus::Healthy, "")
    }
}

pub use crds::keys::IGNORE_HEALTHCHECK;

fn group_kind(object: &Value) -> (&str, &str) {
    let api_version = object.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
    let group = api_version.rsplit_once('/').map_or("", |(group, _)| group);
    (group, object.get("kind").and_then(Value::as_str).unwrap_or_default())
}

/// The health of one object, or `None` when its kind has no health check (it then counts as
/// healthy for its application, as in Argo CD).
#[must_use]
pub fn assess(object: &Value) -> Option<Health> {
    if object
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|t| !t.is_null())
    {
        return Some(Health::new(HealthStatus::Progressing, "Pending deletion"));
    }
    let (group, kind) = group_kind(object);
    let check: fn(&Value) -> Health = match (group, kind) {
        ("apps" | "extensions", "Deployment") => workloads::deployment,
        ("apps", "StatefulSet") => workloads::stateful_set,
        ("apps" | "extensions", "ReplicaSet") => workloads::replica_set,
        ("apps" | "extensions", "DaemonSet") => workloads::daemon_set,
        ("networking.k8s.io" | "extensions", "Ingress") => core::ingress,
        ("", "Service") => core::service,
        ("", "PersistentVolumeClaim") => core::pvc,
        ("", "Pod") => core::pod,
        ("batch", "Job") => batch::job,
        ("autoscaling", "HorizontalPodAutoscaler") => batch::hpa,
        ("apiregistration.k8s.io", "APIService") => core::api_service,
        ("argoproj.io", "Rollout") => argo::rollout,
        ("argoproj.io", "AnalysisRun") => argo::analysis_run,
        ("argoproj.io", "Experiment") => argo::experiment,
        ("argoproj.io", "ApplicationSet") => argo::application_set,
        ("argoproj.io", "Workflow") => argo::workflow,
        _ => return None,
    };
    Some(check(object))
}

/// The health Sluice gives a managed resource: [`assess`] (gitops-engine's and Argo CD's rules,
/// which agree with every vector of Argo's), plus a check for a child Application (app of apps):
/// its own health, the customization Argo CD users add back since 1.8 removed it, so sync waves
/// wait for the children. Sluice applies it by default.
#[must_use]
pub fn judge(object: &Value) -> Option<Health> {
    assess(object).or_else(|| (group_kind(object) == ("argoproj.io", "Application")).then(|| argo::application(object)))
}

/// Whether the object asks to be left out of its application's health.
#[must_use]
pub fn ignored(object: &Value) -> bool {
    object
        .pointer(&format!(
            "/metadata/annotations/{}",
            IGNORE_HEALTHCHECK.replace('/', "~1")
        ))
        .is_some_and(|v| v.as_str() == Some("true"))
}

/// The health of an application from its resources' health: the worst of them (Argo CD's
/// `setApplicationHealth`); an application without resources is Healthy.
#[must_use]
pub fn worst(children: impl IntoIterator<Item = HealthStatus>) -> HealthStatus {
    children.into_iter().max().unwrap_or(HealthStatus::Healthy)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_order_is_argos_and_the_worst_child_wins() {
        use HealthStatus::*;
        assert!(Healthy.is_worse(Suspended));
        assert!(Suspended.is_worse(Progressing));
        assert!(Progressing.is_worse(Missing));
        assert!(Missing.is_worse(Degraded));
        assert!(Degraded.is_worse(Unknown));
        assert_eq!(worst([Healthy, Suspended, Progressing]), Progressing);
        assert_eq!(worst([]), Healthy);
    }

    #[test]
    fn a_child_application_counts_by_its_own_health() {
        let app = |status: serde_json::Value| json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "status": status});
        let judged = |status| judge(&app(status)).map(|h| h.status);
        assert_eq!(
            judged(json!({"health": {"status": "Healthy"}})),
            Some(HealthStatus::Healthy)
        );
        assert_eq!(
            judged(json!({"health": {"status": "Degraded", "message": "canary failed"}})),
            Some(HealthStatus::Degraded)
        );
        assert_eq!(
            judged(json!({})),
            Some(HealthStatus::Progressing),
            "no health reported yet"
        );
        assert_eq!(
            judged(json!({"health": {"status": "Healthy"}, "operationState": {"phase": "Running"}})),
            Some(HealthStatus::Progressing),
            "its own sync is running"
        );
        assert_eq!(
            assess(&app(json!({}))),
            None,
            "gitops-engine has no built-in check for it"
        );
    }

    #[test]
    fn deletion_comes_first_and_unknown_kinds_have_no_health() {
        let deleting =
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"deletionTimestamp": "2026-01-01T00:00:00Z"}});
        assert_eq!(
            assess(&deleting),
            Some(Health::new(HealthStatus::Progressing, "Pending deletion"))
        );
        assert_eq!(assess(&json!({"apiVersion": "v1", "kind": "ConfigMap"})), None);
        let ignored_pod = json!({"metadata": {"annotations": {IGNORE_HEALTHCHECK: "true"}}});
        assert!(ignored(&ignored_pod));
    }
}
