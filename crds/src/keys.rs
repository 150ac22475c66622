//! The label and annotation keys Argo Rollouts (and, for Applications, Argo CD) defines, with their exact spelling, and the lookups
//! every part of Sluice makes on them (controller, plugin, simulator), so objects written by either
//! controller read the same everywhere.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// Pod-template hash on ReplicaSets, their selector and pods, and in Service selectors.
pub const HASH_LABEL: &str = "rollouts-pod-template-hash";
/// Revision number on ReplicaSets, the Rollout and its AnalysisRuns.
pub const REVISION_ANNOTATION: &str = "rollout.argoproj.io/revision";
/// Desired replicas of the Rollout when the ReplicaSet was last scaled.
pub const DESIRED_REPLICAS_ANNOTATION: &str = "rollout.argoproj.io/desired-replicas";
/// RFC 3339 time after which an old ReplicaSet is scaled down.
pub const SCALE_DOWN_DEADLINE_ANNOTATION: &str = "scale-down-deadline";
/// On a Service: the Rollout that manages its selector.
pub const MANAGED_BY_ANNOTATION: &str = "argo-rollouts.argoproj.io/managed-by-rollouts";
/// Which controller instance handles an object.
pub const INSTANCE_ID_LABEL: &str = "argo-rollouts.argoproj.io/controller-instance-id";
/// AnalysisRun label: `Step`, `Background`, `PrePromotion` or `PostPromotion`.
pub const ROLLOUT_TYPE_LABEL: &str = "rollout-type";
/// AnalysisRun label: index of the step that created it.
pub const STEP_INDEX_LABEL: &str = "step-index";

/// On an Application: asks for a refresh now (`normal`: fetch; `hard`: also render again);
/// removed when done, as Argo CD does.
pub const REFRESH_ANNOTATION: &str = "argocd.argoproj.io/refresh";
/// On an Application: paths (`;`-separated, relative to the source path unless absolute) whose
/// changes make it render again.
pub const MANIFEST_GENERATE_PATHS_ANNOTATION: &str = "argocd.argoproj.io/manifest-generate-paths";
/// Finalizer of an Application whose deletion deletes its resources.
pub const RESOURCES_FINALIZER: &str = "resources-finalizer.argocd.argoproj.io";
/// Finalizer spelling Argo CD also accepts for a background cascade.
pub const RESOURCES_FINALIZER_BACKGROUND: &str = "resources-finalizer.argocd.argoproj.io/background";

// Argo CD's and Sluice's GitOps keys: sync, hooks, tracking, repositories and clusters, revert.

/// The label that marks a cluster Secret.
pub const SECRET_TYPE_LABEL: &str = "argocd.argoproj.io/secret-type";

/// The annotation that turns auto-revert on for an Application.
pub const AUTO_REVERT_ANNOTATION: &str = "sluice.dev/auto-revert";

/// Where the reverted templates are recorded on the Application.
pub const REVERTED_TEMPLATES_ANNOTATION: &str = "sluice.dev/reverted-templates";

/// The annotation that keeps a resource out of its application's health.
pub const IGNORE_HEALTHCHECK: &str = "argocd.argoproj.io/ignore-healthcheck";

/// Argo CD's hook annotation.
pub const HOOK: &str = "argocd.argoproj.io/hook";

/// Argo CD's hook delete policy annotation.
pub const HOOK_DELETE_POLICY: &str = "argocd.argoproj.io/hook-delete-policy";

/// The sync wave annotation.
pub const SYNC_WAVE: &str = "argocd.argoproj.io/sync-wave";

/// Per-resource sync options (`Prune=false,Replace=true`).
pub const SYNC_OPTIONS: &str = "argocd.argoproj.io/sync-options";

/// Helm's hook annotation.
pub const HELM_HOOK: &str = "helm.sh/hook";

/// Helm's hook weight.
pub const HELM_HOOK_WEIGHT: &str = "helm.sh/hook-weight";

/// Helm's hook delete policy.
pub const HELM_HOOK_DELETE_POLICY: &str = "helm.sh/hook-delete-policy";

/// The tracking annotation.
pub const TRACKING_ID: &str = "argocd.argoproj.io/tracking-id";

/// Label on every measurement Job: the UID of its AnalysisRun.
pub const RUN_UID_LABEL: &str = "analysisrun.argoproj.io/uid";

/// Annotation: the name of the AnalysisRun.
pub const RUN_NAME_ANNOTATION: &str = "analysisrun.argoproj.io/name";

/// Annotation: the metric the Job measures.
pub const METRIC_NAME_ANNOTATION: &str = "analysisrun.argoproj.io/metric-name";

/// The label naming the ApplicationSet of a generated Application.
pub const APPSET_LABEL: &str = "argocd.argoproj.io/application-set-name";

/// Where the controller records the last revision that was synced and Healthy.
pub const HEALTHY_REVISION_ANNOTATION: &str = "sluice.dev/healthy-revision";

/// How long a non-Rollout resource may stay Degraded before a revert.
pub const GRACE_ANNOTATION: &str = "sluice.dev/auto-revert-grace";

/// The annotation that ties a hook to the operation that created it, so a hook whose creation
/// was not recorded (the status write after it failed) is adopted, never created twice.
pub const OPERATION_ANNOTATION: &str = "sluice.dev/operation";

/// On an Application: approves the deletions its sync waits for under `Prune=confirm` (Argo CD).
pub const DELETION_APPROVED_ANNOTATION: &str = "argocd.argoproj.io/deletion-approved";

/// The value of `key` among the annotations.
#[must_use]
pub fn annotation<'a>(meta: &'a ObjectMeta, key: &str) -> Option<&'a str> {
    meta.annotations.as_ref()?.get(key).map(String::as_str)
}

/// The value of `key` among the labels.
#[must_use]
pub fn label<'a>(meta: &'a ObjectMeta, key: &str) -> Option<&'a str> {
    meta.labels.as_ref()?.get(key).map(String::as_str)
}

/// The `rollouts-pod-template-hash` label.
#[must_use]
pub fn pod_template_hash(meta: &ObjectMeta) -> Option<&str> {
    label(meta, HASH_LABEL)
}

/// The revision annotation, 0 when absent or not a number.
#[must_use]
pub fn revision(meta: &ObjectMeta) -> i64 {
    annotation(meta, REVISION_ANNOTATION)
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

/// The scale-down deadline annotation of a ReplicaSet, when set and a valid time.
#[must_use]
pub fn scale_down_deadline(meta: &ObjectMeta) -> Option<jiff::Timestamp> {
    annotation(meta, SCALE_DOWN_DEADLINE_ANNOTATION)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn meta(labels: &[(&str, &str)], annotations: &[(&str, &str)]) -> ObjectMeta {
        let map = |pairs: &[(&str, &str)]| {
            Some(
                pairs
                    .iter()
                    .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                    .collect::<BTreeMap<_, _>>(),
            )
        };
        ObjectMeta {
            labels: map(labels),
            annotations: map(annotations),
            ..ObjectMeta::default()
        }
    }

    #[test]
    fn lookups_read_argos_keys() {
        let m = meta(
            &[(HASH_LABEL, "abc")],
            &[
                (REVISION_ANNOTATION, "7"),
                (SCALE_DOWN_DEADLINE_ANNOTATION, "2026-01-02T03:04:05Z"),
            ],
        );
        assert_eq!(pod_template_hash(&m), Some("abc"));
        assert_eq!(revision(&m), 7);
        assert_eq!(scale_down_deadline(&m), Some("2026-01-02T03:04:05Z".parse().unwrap()));
    }

    #[test]
    fn missing_or_malformed_values_read_as_absent() {
        let m = meta(
            &[],
            &[(REVISION_ANNOTATION, "x"), (SCALE_DOWN_DEADLINE_ANNOTATION, "soon")],
        );
        assert_eq!(pod_template_hash(&m), None);
        assert_eq!(revision(&m), 0);
        assert_eq!(scale_down_deadline(&m), None);
        assert_eq!(revision(&ObjectMeta::default()), 0);
    }
}
