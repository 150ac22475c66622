//! What one reconcile of an ApplicationSet sees: the parameter sets its generators produced (or
//! why they could not), the Applications it owns, and the names of the other Applications in its
//! namespace and of the AppProjects there.

use std::collections::BTreeSet;

use crds::gitops::{ApplicationSet, StoredApplication};
use gitops::appset::{GeneratorError, Params};
use jiff::Timestamp;

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
