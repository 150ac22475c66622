//! What the AnalysisRun reconciler gets: the shared context, the metric providers, and the runs it
//! has compiled.

use std::collections::HashMap;
use std::sync::Arc;

use analysis::providers::Providers;
use parking_lot::Mutex;

use super::snapshot::{RunKey, StartedRun};
use crate::Context;

/// The AnalysisRun reconciler's context.
#[derive(Clone, Debug)]
pub struct AnalysisRunContext {
    /// Client, recorder, metrics, clock.
    pub base: Context,
    /// Metric providers.
    pub providers: Providers,
    /// Compiled runs by (UID, generation): conditions are parsed once per run.
    pub started: Arc<Mutex<HashMap<RunKey, Arc<StartedRun>>>>,
}

impl AnalysisRunContext {
    /// A context with nothing compiled yet.
    #[must_use]
    pub fn new(base: Context, providers: Providers) -> Self {
        Self {
            base,
            providers,
            started: Arc::default(),
        }
    }
}
