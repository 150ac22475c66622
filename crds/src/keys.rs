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
