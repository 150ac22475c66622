//! The labels and annotations Argo Rollouts defines, with their exact keys, so objects written by
//! either controller read the same.

/// Pod-template hash on ReplicaSets, their selector and pods, and in service selectors.
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
/// AnalysisRun label: Step, Background, PrePromotion or PostPromotion.
pub const ROLLOUT_TYPE_LABEL: &str = "rollout-type";
/// AnalysisRun label: index of the step that created it.
pub const STEP_INDEX_LABEL: &str = "step-index";
