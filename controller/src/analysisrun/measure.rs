//! Executing the due tasks through the providers, concurrently, with secrets masked.

use analysis::args::ResolvedArgs;
use analysis::providers::RunRef;
use analysis::run::{CompiledRun, Task, TaskKind};
use crds::analysis::{AnalysisPhase, AnalysisRunStatus, Measurement};
use futures::future::join_all;
use jiff::Timestamp;

use crate::Context;
use crate::telemetry::MeasurementLabels;

/// Runs every task and returns the measurements by metric index.
pub(super) async fn measure(
    ctx: &Context,
    run: &RunRef,
    compiled: &CompiledRun,
    status: &AnalysisRunStatus,
    args: &ResolvedArgs,
    tasks: Vec<Task>,
    now: Timestamp,
) -> Vec<(usize, Measurement)> {
    let (providers, metrics) = (&ctx.providers, &ctx.metrics);
    let work = tasks.into_iter().filter_map(|task| {
        let metric = compiled.metrics.get(task.metric)?;
        let provider = providers.get(metric.provider)?;
        let sequence = status
            .metric_results
            .iter()
            .find(|r| r.name == metric.metric.name)
            .map_or(1, |r| r.count + r.error + 1);
        Some(async move {
            let measurement = match task.kind {
                TaskKind::Measure => provider.run(run, metric, sequence, now).await,
                TaskKind::Resume(m) => provider.resume(run, metric, m, now).await,
                TaskKind::Terminate(m) => provider.terminate(run, metric, m, now).await,
            };
            if measurement.finished_at.is_some() {
                metrics
                    .measurements
                    .get_or_create(&MeasurementLabels {
                        provider: metric.provider,
                        phase: phase_label(measurement.phase),
                    })
                    .inc();
            }
            (task.metric, mask(measurement, args))
        })
    });
    join_all(work).await
}

/// Secret argument values never reach status.
fn mask(mut measurement: Measurement, args: &ResolvedArgs) -> Measurement {
    if args.secrets.is_empty() {
        return measurement;
    }
    measurement.message = measurement.message.map(|m| args.mask(&m));
    measurement.value = measurement.value.map(|v| args.mask(&v));
    for value in measurement.metadata.values_mut() {
        *value = args.mask(value);
    }
    measurement
}

/// The phase as a bounded metric label.
pub(super) fn phase_label(phase: Option<AnalysisPhase>) -> &'static str {
    match phase {
        Some(AnalysisPhase::Successful) => "Successful",
        Some(AnalysisPhase::Failed) => "Failed",
        Some(AnalysisPhase::Error) => "Error",
        Some(AnalysisPhase::Inconclusive) => "Inconclusive",
        Some(AnalysisPhase::Running) => "Running",
        Some(AnalysisPhase::Pending) | None => "Pending",
    }
}
