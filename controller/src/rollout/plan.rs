//! What one reconcile of a Rollout decided: the writes to make, the status, events and the next
//! wake-up. Produced by [`super::decide::decide`], carried out by [`super::execute`].

use crds::AnalysisRun;
use crds::rollout::RolloutStatus;
use jiff::Timestamp;
use k8s_openapi::api::apps::v1::ReplicaSet;

/// One write to the cluster. Each is idempotent: carrying it out twice leaves the same state.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Create a ReplicaSet.
    CreateReplicaSet(Box<ReplicaSet>),
    /// Set a ReplicaSet's replicas (and the desired-replicas annotation).
    ScaleReplicaSet {
        /// ReplicaSet name.
        name: String,
        /// New `spec.replicas`.
        replicas: i32,
    },
    /// Set (`Some`) or remove (`None`) one annotation of a ReplicaSet.
    AnnotateReplicaSet {
        /// ReplicaSet name.
        name: String,
        /// Annotation key.
        key: String,
        /// Value, or `None` to remove it.
        value: Option<String>,
    },
    /// Make the Rollout the controller of a ReplicaSet that has none.
    AdoptReplicaSet {
        /// ReplicaSet name.
        name: String,
    },
    /// Delete an old, empty ReplicaSet beyond `revisionHistoryLimit`.
    DeleteReplicaSet {
        /// ReplicaSet name.
        name: String,
    },
    /// Point a Service's selector at a pod-template hash.
    SwitchService {
        /// Service name.
        name: String,
        /// The hash to select.
        hash: String,
    },
    /// Create an AnalysisRun.
    CreateAnalysisRun(Box<AnalysisRun>),
    /// Set `spec.terminate` on a running AnalysisRun.
    TerminateAnalysisRun {
        /// Run name.
        name: String,
    },
    /// Delete a finished AnalysisRun beyond the history limits.
    DeleteAnalysisRun {
        /// Run name.
        name: String,
    },
    /// Evict a pod (restart).
    EvictPod {
        /// Pod name.
        name: String,
    },
    /// Set the Rollout's revision annotation.
    SetRevision {
        /// The revision.
        revision: i64,
    },
}

/// A Kubernetes Event to publish on the Rollout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RolloutEvent {
    /// Warning rather than Normal.
    pub warning: bool,
    /// Argo's reason, e.g. `RolloutStepCompleted`.
    pub reason: &'static str,
    /// Human-readable message.
    pub message: String,
}

impl RolloutEvent {
    /// A Normal event.
    #[must_use]
    pub fn normal(reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            warning: false,
            reason,
            message: message.into(),
        }
    }

    /// A Warning event.
    #[must_use]
    pub fn warning(reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            warning: true,
            reason,
            message: message.into(),
        }
    }
}

/// The outcome of a decision.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    /// Writes, in order.
    pub actions: Vec<Action>,
    /// The status to store (written only when it differs from the stored one).
    pub status: RolloutStatus,
    /// Events to publish.
    pub events: Vec<RolloutEvent>,
    /// When to reconcile again even if nothing changes (pause expiry, deadlines).
    pub requeue_at: Option<Timestamp>,
}

impl Plan {
    /// Asks to be woken at `at` (the earliest of all requests wins).
    pub fn wake_at(&mut self, at: Timestamp) {
        self.requeue_at = Some(self.requeue_at.map_or(at, |t| t.min(at)));
    }
}
