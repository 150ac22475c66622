//! What a decision about a run looks at besides the run itself: the run compiled once per
//! generation, with its arguments resolved (`observe` builds it; the context caches it).

use analysis::args::ResolvedArgs;
use analysis::run::CompiledRun;

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
