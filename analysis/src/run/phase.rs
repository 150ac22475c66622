//! Phase ordering and the per-metric verdict from its counters.

use crds::analysis::{AnalysisPhase, MetricResult};

use super::CompiledMetric;

/// True for Successful, Failed, Error and Inconclusive.
pub fn is_completed(phase: Option<AnalysisPhase>) -> bool {
    phase.is_some_and(AnalysisPhase::is_completed)
}

fn rank(phase: AnalysisPhase) -> u8 {
    match phase {
        AnalysisPhase::Successful => 0,
        AnalysisPhase::Running => 1,
        AnalysisPhase::Pending => 2,
        AnalysisPhase::Inconclusive => 3,
        AnalysisPhase::Error => 4,
        AnalysisPhase::Failed => 5,
    }
}

/// Argo's `IsWorse`: Successful < Running < Pending < Inconclusive < Error < Failed.
pub fn is_worse(current: AnalysisPhase, candidate: AnalysisPhase) -> bool {
    rank(candidate) > rank(current)
}

/// Failed / Inconclusive / Error from the limits (checked in that order, later wins), with why.
pub(super) fn limit_breach(metric: &CompiledMetric, result: &MetricResult) -> Option<(AnalysisPhase, String)> {
    let limits = &metric.limits;
    let mut breach = None;
    if limits.failure_limit >= 0 && result.failed > limits.failure_limit {
        breach = Some((
            AnalysisPhase::Failed,
            format!("failed ({}) > failureLimit ({})", result.failed, limits.failure_limit),
        ));
    }
    if result.inconclusive > limits.inconclusive_limit {
        breach = Some((
            AnalysisPhase::Inconclusive,
            format!(
                "inconclusive ({}) > inconclusiveLimit ({})",
                result.inconclusive, limits.inconclusive_limit
            ),
        ));
    }
    if result.consecutive_error > limits.consecutive_error_limit {
        breach = Some((
            AnalysisPhase::Error,
            format!(
                "consecutiveErrors ({}) > consecutiveErrorLimit ({})",
                result.consecutive_error, limits.consecutive_error_limit
            ),
        ));
    }
    breach
}

/// The phase of one metric, as Argo's `assessMetricStatus` decides it.
pub(super) fn metric_phase(metric: &CompiledMetric, result: &MetricResult, terminating: bool) -> AnalysisPhase {
    if let Some(phase) = result.phase.filter(|p| is_completed(Some(*p))) {
        return phase;
    }
    let Some(last) = result.measurements.last() else {
        return if terminating {
            AnalysisPhase::Successful
        } else {
            AnalysisPhase::Pending
        };
    };
    if !is_completed(last.phase) {
        return AnalysisPhase::Running;
    }
    if let Some((phase, _)) = limit_breach(metric, result) {
        return phase;
    }
    let limits = &metric.limits;
    let success_limit = limits.consecutive_success_limit > 0;
    if success_limit && result.consecutive_success >= limits.consecutive_success_limit {
        return AnalysisPhase::Successful;
    }
    if let Some(count) = metric.count
        && result.count >= count
    {
        let failure_limit = limits.failure_limit >= 0;
        return match (failure_limit, success_limit) {
            // Neither limit was reached within count.
            (true, true) => AnalysisPhase::Inconclusive,
            (false, true) => AnalysisPhase::Failed,
            _ => AnalysisPhase::Successful,
        };
    }
    if terminating {
        AnalysisPhase::Successful
    } else {
        AnalysisPhase::Running
    }
}
