//! Carrying out a decision: the due measurements through the providers, concurrently, with
//! secrets masked; and the deletion of a run whose TTL passed.

use analysis::args::ResolvedArgs;
use analysis::providers::RunRef;
use analysis::run::{CompiledRun, Task, TaskKind};
use crds::AnalysisRun;
use crds::analysis::{AnalysisPhase, AnalysisRunStatus, Measurement};
use futures::future::join_all;
use jiff::Timestamp;
use kube::Api;
use kube::api::DeleteParams;

use super::context::AnalysisRunContext;
use crate::metrics::MeasurementLabels;
use crate::{Error, ObjectKey, Result};

/// Runs every task and returns the measurements by metric index.
pub async fn measure(
    ctx: &AnalysisRunContext,
    run: &RunRef,
    compiled: &CompiledRun,
    status: &AnalysisRunStatus,
    args: &ResolvedArgs,
    tasks: Vec<Task>,
    now: Timestamp,
) -> Vec<(usize, Measurement)> {
    let (providers, metrics) = (&ctx.providers, &ctx.base.metrics);
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
pub fn phase_label(phase: Option<AnalysisPhase>) -> &'static str {
    phase.unwrap_or(AnalysisPhase::Pending).as_str()
}

/// Deletes a run whose TTL passed (already gone counts as done).
///
/// # Errors
/// API failures.
pub async fn delete(ctx: &AnalysisRunContext, namespace: &str, name: &str) -> Result<()> {
    let api: Api<AnalysisRun> = Api::namespaced(ctx.base.client.clone(), namespace);
    match api.delete(name, &DeleteParams::background()).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(e) => Err(Error::kube(
            "deleting the expired",
            ObjectKey::namespaced("AnalysisRun", namespace, name),
            e,
        )),
    }
}
