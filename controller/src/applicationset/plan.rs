//! What one reconcile of an ApplicationSet decides: the writes to make, the status and Events.

use crds::gitops::ApplicationSetStatus;
use serde_json::Value;

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
