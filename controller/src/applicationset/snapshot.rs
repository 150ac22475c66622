//! What one reconcile of an ApplicationSet sees, and what it decides: the parameter sets its
//! generators produced (or why they could not), the Applications it owns, the names of the other
//! Applications in its namespace and the AppProjects there; the writes to make and the status.

use std::collections::BTreeSet;

use crds::gitops::{ApplicationSet, ApplicationSetStatus, StoredApplication};
use gitops::appset::{GeneratorError, Params};
use jiff::Timestamp;
use serde_json::Value;

/// The observed state of one ApplicationSet.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// The ApplicationSet.
    pub appset: ApplicationSet,
    /// The time of the observation.
    pub now: Timestamp,
    /// Every generator's parameter sets (each with the field that produced it), or the first
    /// generator that failed.
    pub generated: Result<Vec<(String, Params)>, GeneratorError>,
    /// Applications this set controls (by ownerReference).
    pub owned: Vec<StoredApplication>,
    /// Names of the Applications in the namespace that this set does not control.
    pub foreign: BTreeSet<String>,
    /// Names of the AppProjects in the namespace (`default` always counts).
    pub projects: BTreeSet<String>,
}

/// A write the reconciler makes.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Server-side apply this Application (create it, or bring it to the template).
    Apply {
        /// Its name.
        name: String,
        /// The whole Application as rendered, with ownership.
        object: Value,
        /// It does not exist yet.
        create: bool,
    },
    /// Delete this Application.
    Delete {
        /// Its name.
        name: String,
        /// Remove the resources finalizer first (`preserveResourcesOnDeletion`).
        strip_finalizer: bool,
    },
}

/// The Events a decision asks for (the one Event shape every reconciler uses).
pub use crds::events::Event;

/// What one reconcile decided.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Decision {
    /// Writes, in order.
    pub actions: Vec<Action>,
    /// The status to write.
    pub status: ApplicationSetStatus,
    /// Events.
    pub events: Vec<Event>,
}
