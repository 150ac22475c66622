//! What one AnalysisRun reconcile decides before measuring: delete or wait on a completed run, end
//! a run that cannot compile in Error, or measure the due tasks (then `decide::settle`).

use analysis::run::{CompiledRun, Task};
use crds::analysis::AnalysisRunStatus;
use crds::events::Event;
use jiff::Timestamp;

/// What a reconcile does before measuring.
#[derive(Debug)]
pub enum Decision<'a> {
    /// The run is completed: delete it (its TTL passed), or wake when the TTL passes, or nothing.
    Completed {
        /// Delete it now.
        delete: bool,
        /// When its TTL passes.
        wake_at: Option<Timestamp>,
    },
    /// The run cannot be compiled: end it in Error with this status and event.
    Fail {
        /// The Error status.
        status: AnalysisRunStatus,
        /// The event saying why.
        event: Event,
    },
    /// Measure these tasks with the compiled run, then `decide::settle`.
    Measure {
        /// The compiled run.
        compiled: &'a CompiledRun,
        /// The due tasks.
        tasks: Vec<Task>,
    },
}
