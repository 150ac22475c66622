//! The AnalysisRun state machine, pure: compiled run + status + `now` (+ new measurements) in,
//! next status, next wake-up and events out. The controller only fetches, measures and writes.

mod advance;
mod compile;
mod phase;
mod tasks;
mod ttl;

pub use advance::{Advance, advance, fail};
pub use compile::{CompiledMetric, CompiledRun, compile};
pub use phase::{is_completed, is_worse};
pub use tasks::{Task, TaskKind, tasks};
pub use ttl::expires_at;
