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
    /// Give a traffic router object its weights (a JSON Patch of the weight fields of the user's
    /// object, or the whole object the Rollout owns).
    SetRouteWeights {
        /// The router object.
        target: crate::rollout::traffic::RouteTarget,
        /// The write.
        write: crate::rollout::traffic::RouteWrite,
        /// The canary weight it sets.
        weight: i32,
    },
}

impl Action {
    /// What the action does, as a verb phrase for errors (`scaling`).
    #[must_use]
    pub fn verb(&self) -> &'static str {
        match self {
            Self::CreateReplicaSet(_) | Self::CreateAnalysisRun(_) => "creating",
            Self::ScaleReplicaSet { .. } => "scaling",
            Self::AnnotateReplicaSet { .. } => "annotating",
            Self::AdoptReplicaSet { .. } => "adopting",
            Self::DeleteReplicaSet { .. } | Self::DeleteAnalysisRun { .. } => "deleting",
            Self::SwitchService { .. } => "switching the selector of",
            Self::TerminateAnalysisRun { .. } => "terminating",
            Self::EvictPod { .. } => "evicting",
            Self::SetRevision { .. } => "setting the revision of",
            Self::SetRouteWeights { .. } => "setting the traffic weights of",
        }
    }

    /// The kind and name of the object written (`None` for the Rollout itself).
    #[must_use]
    pub fn object(&self) -> Option<(&'static str, String)> {
        let named = |name: &Option<String>| name.clone().unwrap_or_default();
        Some(match self {
            Self::CreateReplicaSet(rs) => ("ReplicaSet", named(&rs.metadata.name)),
            Self::CreateAnalysisRun(run) => ("AnalysisRun", named(&run.metadata.name)),
            Self::ScaleReplicaSet { name, .. }
            | Self::AnnotateReplicaSet { name, .. }
            | Self::AdoptReplicaSet { name }
            | Self::DeleteReplicaSet { name } => ("ReplicaSet", name.clone()),
            Self::TerminateAnalysisRun { name } | Self::DeleteAnalysisRun { name } => ("AnalysisRun", name.clone()),
            Self::SwitchService { name, .. } => ("Service", name.clone()),
            Self::EvictPod { name } => ("Pod", name.clone()),
            Self::SetRouteWeights { target, .. } => (target.kind, target.name.clone()),
            Self::SetRevision { .. } => return None,
        })
    }
}

/// The reasons of the Events a Rollout gets, with Argo's names (those that are also condition
/// reasons live in `crds::rollout::conditions::reason`).
pub mod reason {
    /// Steps skipped: going back to the stable ReplicaSet.
    pub const SKIP_STEPS: &str = "SkipSteps";
    /// Every pod was recreated after `restartAt`.
    pub const ROLLOUT_RESTARTED: &str = "RolloutRestarted";
    /// A Service's selector now points at another ReplicaSet.
    pub const SWITCH_SERVICE: &str = "SwitchService";
    /// An AnalysisRun was started.
    pub const ANALYSIS_RUN_CREATED: &str = "AnalysisRunCreated";
    /// The controller paused the Rollout (a pause step, blue-green, Inconclusive).
    pub const ROLLOUT_PAUSED: &str = "RolloutPaused";
    /// A canary step completed.
    pub const ROLLOUT_STEP_COMPLETED: &str = "RolloutStepCompleted";
    /// The ReplicaSet of a new version was created.
    pub const NEW_REPLICA_SET_CREATED: &str = "NewReplicaSetCreated";
    /// The Rollout moved to a new revision.
    pub const ROLLOUT_UPDATED: &str = "RolloutUpdated";
    /// The new version became stable.
    pub const ROLLOUT_COMPLETED: &str = "RolloutCompleted";
    /// A ReplicaSet was scaled.
    pub const SCALING_REPLICA_SET: &str = "ScalingReplicaSet";
    /// A traffic router was given new weights.
    pub const TRAFFIC_WEIGHT_UPDATED: &str = "TrafficWeightUpdated";
}

/// The Events a decision asks for (the one Event shape every reconciler uses).
pub use crds::events::Event;

/// The outcome of a decision.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    /// Writes, in order.
    pub actions: Vec<Action>,
    /// The status to store (written only when it differs from the stored one).
    pub status: RolloutStatus,
    /// Events to publish.
    pub events: Vec<Event>,
    /// When to reconcile again even if nothing changes (pause expiry, deadlines).
    pub requeue_at: Option<Timestamp>,
    /// The status differs from the stored one only in replica counts that are still moving: it
    /// is not written in this reconcile (see `decide::coalesce`).
    pub hold_status: bool,
    /// Nothing was decided because these could not be read: no action, the stored status kept,
    /// the reconcile retried with backoff.
    pub undecided: Vec<crate::read::Unreadable>,
}

impl Plan {
    /// The plan of a reconcile that could not read all it needs: nothing done, nothing written.
    #[must_use]
    pub fn undecided(stored: RolloutStatus, unreadable: Vec<crate::read::Unreadable>) -> Self {
        Self {
            status: stored,
            undecided: unreadable,
            ..Self::default()
        }
    }

    /// Asks to be woken at `at` (the earliest of all requests wins).
    pub fn wake_at(&mut self, at: Timestamp) {
        self.requeue_at = Some(self.requeue_at.map_or(at, |t| t.min(at)));
    }
}
