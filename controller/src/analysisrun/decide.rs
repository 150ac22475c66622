//! The pure decision of one AnalysisRun reconcile, over `analysis::run` (Argo's
//! `reconcileAnalysisRun`): what to do with a completed run (TTL), a run that cannot be compiled,
//! and which measurements are due; then the status after measuring.

use analysis::run::{Advance, CompiledRun, Task, advance, expires_at, fail, is_completed, tasks};
use crds::AnalysisRun;
use crds::analysis::{AnalysisRunStatus, Measurement};
use crds::events::Event;
use jiff::Timestamp;

use super::context::StartedRun;

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
    /// Measure these tasks with the compiled run, then [`after_measuring`].
    Measure {
        /// The compiled run.
        compiled: &'a CompiledRun,
        /// The due tasks.
        tasks: Vec<Task>,
    },
}

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
pub fn after_measuring(
    compiled: &CompiledRun,
    status: &AnalysisRunStatus,
    now: Timestamp,
    measurements: Vec<(usize, Measurement)>,
) -> Advance {
    advance(compiled, status, now, measurements)
}

#[cfg(test)]
mod tests {
    use analysis::args::ResolvedArgs;

    use super::*;

    fn run(status: serde_json::Value, ttl: Option<i32>) -> AnalysisRun {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisRun",
            "metadata": {"name": "r", "namespace": "default"},
            "spec": {"metrics": [], "ttlStrategy": ttl.map(|s| serde_json::json!({"secondsAfterCompletion": s}))},
            "status": status
        }))
        .unwrap()
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn a_completed_run_waits_for_its_ttl_then_is_deleted() {
        let done = run(
            serde_json::json!({"phase": "Successful", "completedAt": "2026-01-01T00:00:00Z"}),
            Some(60),
        );
        let wake = at("2026-01-01T00:01:00Z");
        assert!(matches!(
            decide(&done, None, at("2026-01-01T00:00:30Z")),
            Decision::Completed { delete: false, wake_at: Some(w) } if w == wake
        ));
        assert!(matches!(
            decide(&done, None, wake),
            Decision::Completed {
                delete: true,
                wake_at: None
            }
        ));
    }

    #[test]
    fn a_run_that_cannot_compile_ends_in_error_with_its_secrets_masked() {
        let mut args = ResolvedArgs::default();
        args.secrets.push("hunter2".into());
        let started = StartedRun {
            compiled: Err("bad token hunter2".into()),
            args,
        };
        let pending = run(serde_json::json!({}), None);
        let Decision::Fail { status, event } = decide(&pending, Some(&started), at("2026-01-01T00:00:00Z")) else {
            panic!("expected Fail");
        };
        assert_eq!(status.phase, Some(crds::analysis::AnalysisPhase::Error));
        assert!(!event.message.contains("hunter2"), "{}", event.message);
        assert!(
            event
                .message
                .starts_with("Analysis Completed. Result: Error: bad token")
        );
    }
}
