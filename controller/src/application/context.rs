//! What the Application reconciler gets: the shared context, the GitOps runtime, its comparison
//! cache and its memory of self-heal attempts.

use std::collections::HashMap;
use std::sync::Arc;

use jiff::Timestamp;
use parking_lot::Mutex;

use super::compare::ComparisonCache;
use crate::Context;
use crate::runtime::GitOps;

/// Self-heal attempts of one Application at one revision, kept in memory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SelfHeal {
    /// The revision healed.
    pub revision: String,
    /// Attempts so far.
    pub attempts: u32,
    /// When the last one started.
    pub last: Option<Timestamp>,
}

/// The Application reconciler's context.
pub struct AppContext {
    /// Client, recorder, metrics, clock.
    pub base: Context,
    /// The GitOps runtime: repositories, credentials, clusters, live state, projects.
    pub runtime: Arc<GitOps>,
    /// Comparisons by (resource, desired hash, live resourceVersion).
    pub comparisons: ComparisonCache,
    /// Self-heal attempts by Application uid.
    pub self_heal: Mutex<HashMap<String, SelfHeal>>,
}

impl std::fmt::Debug for AppContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppContext")
            .field("runtime", &self.runtime)
            .finish_non_exhaustive()
    }
}
