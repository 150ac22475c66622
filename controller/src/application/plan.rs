//! What a decision asks for: the actions to carry out, the status to write, the Events, and when
//! to look again.

use crds::gitops::ApplicationStatus;
use jiff::Timestamp;
use serde_json::Value;

/// How deletions cascade.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Propagation {
    /// Dependents first (Argo CD's default).
    Foreground,
    /// The object first, dependents by the garbage collector.
    Background,
    /// Dependents left.
    Orphan,
}

/// One thing to do.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Server-side apply a desired resource (`replace`: a full update instead, `Replace=true`).
    Apply {
        /// The object.
        desired: Value,
        /// Replace instead of apply.
        replace: bool,
        /// Let the API server check fields against the schema (`Validate=false` turns it off).
        validate: bool,
    },
    /// Create a hook (a name or a generateName).
    CreateHook {
        /// The hook as rendered.
        hook: Value,
    },
    /// Delete a live object.
    Delete {
        /// The live object.
        live: Value,
        /// Cascade.
        propagation: Propagation,
    },
    /// Create the destination namespace (`CreateNamespace=true`).
    CreateNamespace {
        /// Name.
        name: String,
        /// `managedNamespaceMetadata`.
        labels: std::collections::BTreeMap<String, String>,
        /// `managedNamespaceMetadata`.
        annotations: std::collections::BTreeMap<String, String>,
    },
    /// Remove the resources finalizer (every resource is gone).
    RemoveFinalizer,
    /// Remove the refresh annotation (the refresh was made).
    ClearRefresh,
    /// Record the revision as known-good (`sluice.dev/healthy-revision`).
    MarkHealthy {
        /// The revision.
        revision: String,
    },
    /// Record the reverted pod templates that automated syncs keep out
    /// (`sluice.dev/reverted-templates`, see `gitops::revert::keep_out`).
    KeepOut {
        /// The annotation's new value.
        annotation: String,
    },
    /// Revert these commits on `branch` and push (see `repo::revert`).
    Revert {
        /// The branch.
        branch: String,
        /// Newest first.
        reverts: Vec<gitops::revert::Revert>,
        /// One commit with this message for all of them (`--revert-squash`).
        squash: Option<String>,
    },
    /// Remember a self-heal attempt at this revision.
    RecordSelfHeal {
        /// The revision.
        revision: String,
    },
}

impl Action {
    /// Whether it changes something outside the Application (the cluster, or Git): the decision's
    /// intent is recorded before such actions run.
    #[must_use]
    pub const fn acts(&self) -> bool {
        matches!(
            self,
            Self::Apply { .. }
                | Self::CreateHook { .. }
                | Self::Delete { .. }
                | Self::CreateNamespace { .. }
                | Self::Revert { .. }
        )
    }
}

/// The Events a decision asks for (the one Event shape every reconciler uses).
pub use crds::events::Event;

/// The decision.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Decision {
    /// The status to write.
    pub status: ApplicationStatus,
    /// Actions, in order.
    pub actions: Vec<Action>,
    /// Remove the `operation` field (it has started).
    pub clear_operation: bool,
    /// Events.
    pub events: Vec<Event>,
    /// When to look again without a change (`None`: on the next change).
    pub requeue_at: Option<Timestamp>,
}

impl Decision {
    /// Adds an event.
    pub fn event(&mut self, warning: bool, reason: &'static str, message: impl Into<String>) {
        self.events.push(Event::new(warning, reason, message));
    }

    /// Looks again no later than `at`.
    pub fn wake_at(&mut self, at: Timestamp) {
        self.requeue_at = Some(self.requeue_at.map_or(at, |t| t.min(at)));
    }
}

/// What carrying out the actions gave, for the decision to settle.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcome {
    /// Actions that failed: the resource (`group/Kind/namespace/name`) and why.
    pub failures: Vec<(String, String)>,
    /// Hooks created: (manifest key, created name).
    pub created_hooks: Vec<(String, String)>,
    /// API writes made.
    pub writes: u32,
    /// What a revert did: pushed to the branch (new tip), or left aside, or failed; the message.
    pub revert: Option<(bool, String)>,
}
