//! Folding new measurements into the status and judging metrics and the run: Argo's
//! `runMeasurements` bookkeeping, `assessRunStatus` and `calculateNextReconcileTime`.

use crds::analysis::{AnalysisPhase, AnalysisRunStatus, Measurement, MetricResult, RunSummary};
use crds::events::Event;
use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::phase::{is_completed, is_worse, limit_breach, metric_phase};
use super::tasks::{Next, result_of, schedule, terminating};
use super::{CompiledRun, expires_at};

/// The result of advancing a run.
#[derive(Clone, Debug, PartialEq)]
pub struct Advance {
    /// The next status.
    pub status: AnalysisRunStatus,
    /// When to look again: the next measurement, retry, resume or TTL expiry.
    pub wake_at: Option<Timestamp>,
    /// Events to record.
    pub events: Vec<Event>,
}

/// Ends a run that cannot start (bad spec, missing argument) in Error.
pub fn fail(status: &AnalysisRunStatus, now: Timestamp, message: &str) -> AnalysisRunStatus {
    let mut status = status.clone();
    status.started_at.get_or_insert(Time(now));
    status.phase = Some(AnalysisPhase::Error);
    status.message = Some(message.to_string());
    status.completed_at = Some(Time(now));
    status
}

/// Applies `measurements` (new or updated, by metric index) and reassesses the run at `now`.
pub fn advance(
    run: &CompiledRun,
    status: &AnalysisRunStatus,
    now: Timestamp,
    measurements: Vec<(usize, Measurement)>,
) -> Advance {
    let mut next = status.clone();
    next.started_at.get_or_insert(Time(now));
    if is_completed(next.phase) {
        let wake_at = expires_at(run.ttl.as_ref(), &next);
        return Advance {
            status: next,
            wake_at,
            events: Vec::new(),
        };
    }
    for metric in &run.metrics {
        if result_of(&next, &metric.metric.name).is_none() {
            next.metric_results.push(MetricResult {
                name: metric.metric.name.clone(),
                phase: Some(AnalysisPhase::Pending),
                dry_run: metric.dry_run.then_some(true),
                ..MetricResult::default()
            });
        }
    }
    for (index, measurement) in measurements {
        if let Some(metric) = run.metrics.get(index) {
            record(&mut next, &metric.metric.name, metric.retention, measurement, now);
        }
    }
    let mut events = Vec::new();
    // Assess with the fail-fast state before this pass, then again if this pass made the run
    // terminating, so a failure stops the other metrics in the same reconcile.
    let before = terminating(run, &next);
    assess_metrics(run, &mut next, before, &mut events);
    if !before && terminating(run, &next) {
        assess_metrics(run, &mut next, true, &mut events);
    }
    assess_run(run, &mut next, now, &mut events);
    let wake_at = if is_completed(next.phase) {
        expires_at(run.ttl.as_ref(), &next)
    } else {
        next_wake(run, &next)
    };
    Advance {
        status: next,
        wake_at,
        events,
    }
}

/// Adds or replaces (when resuming) a measurement and updates the counters when it completed.
fn record(status: &mut AnalysisRunStatus, name: &str, retention: usize, mut measurement: Measurement, now: Timestamp) {
    let Some(result) = status.metric_results.iter_mut().find(|r| r.name == name) else {
        return;
    };
    if is_completed(measurement.phase) {
        measurement.finished_at.get_or_insert(Time(now));
        measurement.resume_at = None;
        match measurement.phase {
            Some(AnalysisPhase::Successful) => {
                result.successful += 1;
                result.count += 1;
                result.consecutive_error = 0;
                result.consecutive_success += 1;
            }
            Some(AnalysisPhase::Failed) => {
                result.failed += 1;
                result.count += 1;
                result.consecutive_error = 0;
                result.consecutive_success = 0;
            }
            Some(AnalysisPhase::Inconclusive) => {
                result.inconclusive += 1;
                result.count += 1;
                result.consecutive_error = 0;
                result.consecutive_success = 0;
            }
            _ => {
                // Errors do not count towards `count`: a metric is measured `count` times.
                result.error += 1;
                result.consecutive_error += 1;
                result.consecutive_success = 0;
            }
        }
    }
    let resuming = result.measurements.last().is_some_and(|m| m.finished_at.is_none());
    if resuming {
        result.measurements.pop();
    }
    result.measurements.push(measurement);
    if result.measurements.len() > retention {
        let excess = result.measurements.len() - retention;
        result.measurements.drain(..excess);
    }
}

fn assess_metrics(run: &CompiledRun, status: &mut AnalysisRunStatus, terminating: bool, events: &mut Vec<Event>) {
    for metric in &run.metrics {
        let Some(result) = status.metric_results.iter_mut().find(|r| r.name == metric.metric.name) else {
            continue;
        };
        let phase = metric_phase(metric, result, terminating);
        if result.phase == Some(phase) {
            continue;
        }
        result.message = result.measurements.last().and_then(|m| m.message.clone());
        result.phase = Some(phase);
        if is_completed(Some(phase)) {
            events.push(Event {
                warning: phase != AnalysisPhase::Successful,
                reason: format!("Metric{phase:?}").into(),
                message: format!("Metric '{}' Completed. Result: {phase:?}", metric.metric.name),
            });
        }
    }
}

fn assess_run(run: &CompiledRun, status: &mut AnalysisRunStatus, now: Timestamp, events: &mut Vec<Event>) {
    let mut summary = RunSummary::default();
    let mut dry_summary = RunSummary::default();
    let mut everything_completed = true;
    let mut worst: Option<(AnalysisPhase, Option<String>)> = None;
    for metric in &run.metrics {
        let tally = if metric.dry_run { &mut dry_summary } else { &mut summary };
        tally.count += 1;
        let phase = result_of(status, &metric.metric.name).and_then(|r| r.phase);
        if !is_completed(phase) {
            everything_completed = false;
            continue;
        }
        let Some(phase) = phase else { continue };
        match phase {
            AnalysisPhase::Successful => tally.successful += 1,
            AnalysisPhase::Failed => tally.failed += 1,
            AnalysisPhase::Inconclusive => tally.inconclusive += 1,
            _ => tally.error += 1,
        }
        let result = result_of(status, &metric.metric.name);
        let why = result.and_then(|r| limit_breach(metric, r)).map(|(_, why)| why);
        let last_message = result
            .and_then(|r| r.measurements.last())
            .and_then(|m| m.message.clone())
            .filter(|m| !m.is_empty());
        let message = why.map(|why| {
            let mut text = format!("Metric \"{}\" assessed {phase:?} due to {why}", metric.metric.name);
            if let Some(last) = &last_message {
                text.push_str(&format!(": \"Error Message: {last}\""));
            }
            text
        });
        if metric.dry_run {
            if let (Some(message), Some(result)) = (
                message,
                status.metric_results.iter_mut().find(|r| r.name == metric.metric.name),
            ) {
                result.message = Some(message.replacen(&format!("Metric \"{}\" ", metric.metric.name), "Metric ", 1));
            }
        } else if worst.as_ref().is_none_or(|(current, _)| is_worse(*current, phase)) {
            worst = Some((phase, message));
        }
    }
    status.run_summary = Some(summary);
    status.dry_run_summary = (dry_summary.count > 0).then_some(dry_summary);
    if !everything_completed {
        status.phase = Some(AnalysisPhase::Running);
        status.message = run.terminate.then(|| "Run Terminated".to_string());
        return;
    }
    let (phase, message) = worst.unwrap_or((AnalysisPhase::Successful, None));
    let message = message.or_else(|| run.terminate.then(|| "Run Terminated".to_string()));
    status.phase = Some(phase);
    status.message = message;
    status.completed_at = Some(Time(now));
    events.push(Event {
        warning: phase != AnalysisPhase::Successful,
        reason: format!("AnalysisRun{phase:?}").into(),
        message: format!(
            "Analysis Completed. Result: {phase:?}{}",
            status.message.as_ref().map(|m| format!(": {m}")).unwrap_or_default()
        ),
    });
}

/// The earliest time a measurement is due or an in-flight one should be checked.
fn next_wake(run: &CompiledRun, status: &AnalysisRunStatus) -> Option<Timestamp> {
    let started = status.started_at.as_ref().map(|t| t.0)?;
    schedule(run, status, terminating(run, status), started)
        .map(|(_, next)| match next {
            // An in-flight measurement without a resume time is checked at once.
            Next::InFlight(last) => last.resume_at.as_ref().map_or(started, |t| t.0),
            Next::At(due) => due,
        })
        .min()
}
