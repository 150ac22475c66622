//! The pure decision of one AnalysisRun reconcile, over `analysis::run` (Argo's
//! `reconcileAnalysisRun`): what to do with a completed run (TTL), a run that cannot be compiled,
//! and which measurements are due; then the status after measuring.

use analysis::run::{Advance, CompiledRun, advance, expires_at, fail, is_completed, tasks};
use crds::AnalysisRun;
use crds::analysis::{AnalysisRunStatus, Measurement};
use crds::events::Event;
use jiff::Timestamp;

pub use super::plan::Decision;
use super::snapshot::StartedRun;

/// Decides what to do with `run` at `now`; `started` is its compiled form (`None` once completed).
#[must_use]
pub fn decide<'a>(run: &AnalysisRun, started: Option<&'a StartedRun>, now: Timestamp) -> Decision<'a> {
    let status = run.status.clone().unwrap_or_default();
    let started = match started {
        Some(started) if !is_completed(status.phase) => started,
        _ => {
            return match expires_at(run.spec.ttl_strategy.as_ref(), &status) {
                Some(at) if at <= now => Decision::Completed {
                    delete: true,
                    wake_at: None,
                },
                wake_at => Decision::Completed { delete: false, wake_at },
            };
        }
    };
    match &started.compiled {
        Ok(compiled) => Decision::Measure {
            compiled,
            tasks: tasks(compiled, &status, now),
        },
        Err(message) => {
            let message = started.args.mask(message);
            Decision::Fail {
                status: fail(&status, now, &message),
                event: Event::warning(
                    "AnalysisRunError",
                    format!("Analysis Completed. Result: Error: {message}"),
                ),
            }
        }
    }
}

/// The status, events and next wake-up after the measurements were taken (at `now`).
#[must_use]
pub fn settle(
    compiled: &CompiledRun,
    status: &AnalysisRunStatus,
    now: Timestamp,
    measurements: Vec<(usize, Measurement)>,
) -> Advance {
    advance(compiled, status, now, measurements)
}

#[cfg(test)]
mod tests;
