//! What the AnalysisRun reconciler gets: the shared context, the metric providers, and the runs it
//! has compiled.

use std::collections::HashMap;
use std::sync::Arc;

use analysis::args::ResolvedArgs;
use analysis::providers::Providers;
use analysis::run::CompiledRun;
use parking_lot::Mutex;

use crate::Context;

/// A run compiled when it started, with its arguments (secrets included, kept in memory only).
#[derive(Debug)]
pub struct StartedRun {
    /// The compiled run, or why it cannot run.
    pub compiled: Result<CompiledRun, String>,
    /// Resolved arguments, used to mask secret values in what is written.
    pub args: ResolvedArgs,
}

/// A run's identity across its generations: (UID, generation).
pub type RunKey = (String, i64);

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
