//! Which metrics to measure now: Argo's `generateMetricTasks`.

use crds::analysis::{AnalysisPhase, AnalysisRunStatus, Measurement, MetricResult};
use crds::defaults::ERROR_RETRY_SECONDS;
use jiff::{SignedDuration, Timestamp};

use super::phase::is_completed;
use super::{CompiledMetric, CompiledRun};

/// What to do for one metric now.
#[derive(Clone, Debug, PartialEq)]
pub enum TaskKind {
    /// Take a new measurement.
    Measure,
    /// Check an in-flight measurement (e.g. a running Job) again.
    Resume(Measurement),
    /// Stop an in-flight measurement: the run is terminating.
    Terminate(Measurement),
}

/// A measurement to take or continue.
#[derive(Clone, Debug, PartialEq)]
pub struct Task {
    /// Index of the metric in the compiled run.
    pub metric: usize,
    /// What to do.
    pub kind: TaskKind,
}

pub(super) fn result_of<'a>(status: &'a AnalysisRunStatus, name: &str) -> Option<&'a MetricResult> {
    status.metric_results.iter().find(|r| r.name == name)
}

/// Whether the run stops scheduling new measurements: terminated, or (fail-fast) a non-dry-run
/// metric already Failed, Errored or is Inconclusive.
pub(super) fn terminating(run: &CompiledRun, status: &AnalysisRunStatus) -> bool {
    run.terminate
        || run.metrics.iter().filter(|m| !m.dry_run).any(|m| {
            matches!(
                result_of(status, &m.metric.name).and_then(|r| r.phase),
                Some(AnalysisPhase::Failed | AnalysisPhase::Error | AnalysisPhase::Inconclusive)
            )
        })
}

/// The measurements due at `now`.
pub fn tasks(run: &CompiledRun, status: &AnalysisRunStatus, now: Timestamp) -> Vec<Task> {
    if is_completed(status.phase) {
        return Vec::new();
    }
    let terminating = terminating(run, status);
    let started = status.started_at.as_ref().map_or(now, |t| t.0);
    schedule(run, status, terminating, started)
        .filter_map(|(metric, next)| {
            let kind = match next {
                Next::InFlight(last) if terminating => TaskKind::Terminate(last.clone()),
                Next::InFlight(last) => TaskKind::Resume(last.clone()),
                Next::At(due) if due <= now => TaskKind::Measure,
                Next::At(_) => return None,
            };
            Some(Task { metric, kind })
        })
        .collect()
}

/// What comes next for a metric that has not completed.
pub(super) enum Next<'a> {
    /// Its last measurement is still in flight (to resume, or to terminate).
    InFlight(&'a Measurement),
    /// Its next measurement is due at this time.
    At(Timestamp),
}

/// What comes next for each incomplete metric, by index: in-flight measurements always, new
/// measurements only while the run is not terminating.
pub(super) fn schedule<'a>(
    run: &'a CompiledRun,
    status: &'a AnalysisRunStatus,
    terminating: bool,
    started: Timestamp,
) -> impl Iterator<Item = (usize, Next<'a>)> {
    run.metrics.iter().enumerate().filter_map(move |(i, metric)| {
        let result = result_of(status, &metric.metric.name);
        if is_completed(result.and_then(|r| r.phase)) {
            return None;
        }
        let last = result.and_then(|r| r.measurements.last());
        let next = match last {
            Some(last) if last.finished_at.is_none() => Next::InFlight(last),
            _ if terminating => return None,
            _ => Next::At(due_at(metric, last, started)?),
        };
        Some((i, next))
    })
}

/// When the next measurement of a metric is due (given its last finished measurement).
fn due_at(metric: &CompiledMetric, last: Option<&Measurement>, started: Timestamp) -> Option<Timestamp> {
    let Some(last) = last else {
        return Some(metric.initial_delay.map_or(started, |d| add(started, d)));
    };
    let finished = last.finished_at.as_ref()?.0;
    if last.phase == Some(AnalysisPhase::Error) {
        return Some(add(finished, SignedDuration::from_secs(ERROR_RETRY_SECONDS)));
    }
    metric.interval.map(|interval| add(finished, interval))
}

pub(super) fn add(t: Timestamp, d: SignedDuration) -> Timestamp {
    t.checked_add(d).unwrap_or(Timestamp::MAX)
}
