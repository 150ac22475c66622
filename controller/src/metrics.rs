//! Prometheus metrics of the controller. Labels come from bounded sets only (controller, result,
//! error kind, provider, phase), never object names or error text.

use std::time::Instant;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of reconcile metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReconcileLabels {
    /// `analysisrun`, `rollout`, ...
    pub controller: &'static str,
}

/// Labels of reconcile failures.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FailureLabels {
    /// The reconciler.
    pub controller: &'static str,
    /// The error kind.
    pub kind: &'static str,
}

/// Labels of measurements.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MeasurementLabels {
    /// Provider kind.
    pub provider: &'static str,
    /// Measurement phase.
    pub phase: &'static str,
}

/// Labels of completed runs.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RunLabels {
    /// Final phase.
    pub phase: &'static str,
}

/// Every metric the controller exports.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Reconciles started.
    pub reconciles: Family<ReconcileLabels, Counter>,
    /// Reconciles that failed.
    pub failures: Family<FailureLabels, Counter>,
    /// Reconcile duration in seconds.
    pub duration: Family<ReconcileLabels, Histogram>,
    /// Measurements taken.
    pub measurements: Family<MeasurementLabels, Counter>,
    /// AnalysisRuns completed, by phase.
    pub runs_completed: Family<RunLabels, Counter>,
    /// API writes made by the Rollout reconciler (objects and status).
    pub rollout_writes: Counter,
    /// Rollouts by phase, as last reconciled.
    pub rollouts: Family<RolloutLabels, Gauge>,
    /// 1 while this instance holds the leader lease (or runs without leader election).
    pub leader: Gauge,
}

/// Labels of the rollouts-by-phase gauge.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RolloutLabels {
    /// Healthy, Progressing, Paused, Degraded or Unknown.
    pub phase: &'static str,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("sluice");
        let reconciles = Family::<ReconcileLabels, Counter>::default();
        let failures = Family::<FailureLabels, Counter>::default();
        let duration = Family::<ReconcileLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.001, 2.0, 14))
        });
        let measurements = Family::<MeasurementLabels, Counter>::default();
        let runs_completed = Family::<RunLabels, Counter>::default();
        let rollout_writes = Counter::default();
        let rollouts = Family::<RolloutLabels, Gauge>::default();
        let leader = Gauge::default();
        registry.register("reconciles", "Reconciles started", reconciles.clone());
        registry.register(
            "reconcile_failures",
            "Reconciles that returned an error",
            failures.clone(),
        );
        registry.register("reconcile_duration_seconds", "Reconcile duration", duration.clone());
        registry.register(
            "analysis_measurements",
            "Analysis measurements taken",
            measurements.clone(),
        );
        registry.register(
            "analysisruns_completed",
            "AnalysisRuns completed",
            runs_completed.clone(),
        );
        registry.register(
            "rollout_writes",
            "API writes made by the Rollout reconciler",
            rollout_writes.clone(),
        );
        registry.register("rollouts", "Rollouts by phase", rollouts.clone());
        registry.register("leader", "1 while this instance is the leader", leader.clone());
        Self {
            registry,
            rollout_writes,
            rollouts,
            leader,
            reconciles,
            failures,
            duration,
            measurements,
            runs_completed,
        }
    }
}

impl Metrics {
    /// The metrics in Prometheus' text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }

    /// Counts a reconcile and returns a timer that records its duration when dropped.
    pub fn reconcile(&self, controller: &'static str) -> ReconcileTimer<'_> {
        self.reconciles.get_or_create(&ReconcileLabels { controller }).inc();
        ReconcileTimer {
            metrics: self,
            controller,
            start: crate::clock::stopwatch(),
        }
    }
}

/// Records a reconcile's duration on drop.
#[derive(Debug)]
pub struct ReconcileTimer<'a> {
    metrics: &'a Metrics,
    controller: &'static str,
    start: Instant,
}

impl Drop for ReconcileTimer<'_> {
    fn drop(&mut self) {
        self.metrics
            .duration
            .get_or_create(&ReconcileLabels {
                controller: self.controller,
            })
            .observe(self.start.elapsed().as_secs_f64());
    }
}
