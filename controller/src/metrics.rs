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
    /// Application sync operations finished, by phase.
    pub app_syncs: Family<PhaseLabels, Counter>,
    /// Application reconcile duration in seconds.
    pub app_duration: Histogram,
    /// Git fetches, by result.
    pub git_fetches: Family<ResultLabels, Counter>,
    /// Git fetch duration in seconds.
    pub git_fetch_duration: Histogram,
    /// API requests the Application reconciler made (dry runs, applies, deletes, status).
    pub app_requests: Counter,
    /// Git reverts, by result (`pushed`, `failed`).
    pub reverts: Family<ResultLabels, Counter>,
    /// Git revert duration in seconds (revert, push, retries).
    pub revert_duration: Histogram,
}

/// Labels of a finished operation.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PhaseLabels {
    /// Succeeded, Failed or Error.
    pub phase: &'static str,
}

/// Labels of an attempt.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabels {
    /// `ok` or `error`.
    pub result: &'static str,
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
        let app_syncs = Family::<PhaseLabels, Counter>::default();
        let app_duration = Histogram::new(exponential_buckets(0.001, 2.0, 14));
        let git_fetches = Family::<ResultLabels, Counter>::default();
        let git_fetch_duration = Histogram::new(exponential_buckets(0.005, 2.0, 12));
        let app_requests = Counter::default();
        let reverts = Family::<ResultLabels, Counter>::default();
        registry.register("reverts", "Git reverts of Applications, by result", reverts.clone());
        let revert_duration = Histogram::new(exponential_buckets(0.01, 2.0, 12));
        registry.register(
            "revert_duration_seconds",
            "Git revert duration (revert, push, retries)",
            revert_duration.clone(),
        );
        registry.register(
            "app_sync",
            "Application sync operations finished, by phase",
            app_syncs.clone(),
        );
        registry.register(
            "app_reconcile_duration_seconds",
            "Application reconcile duration",
            app_duration.clone(),
        );
        registry.register("git_fetch", "Git fetches, by result", git_fetches.clone());
        registry.register(
            "git_fetch_duration_seconds",
            "Git fetch duration",
            git_fetch_duration.clone(),
        );
        registry.register(
            "app_api_requests",
            "API requests made by the Application and ApplicationSet reconcilers",
            app_requests.clone(),
        );
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
            app_syncs,
            app_duration,
            git_fetches,
            git_fetch_duration,
            app_requests,
            reverts,
            revert_duration,
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

    /// A timer for one Git fetch.
    pub fn git_fetch(&self) -> FetchTimer<'_> {
        FetchTimer {
            metrics: self,
            start: crate::clock::stopwatch(),
        }
    }

    /// Counts an Application reconcile and times it until dropped.
    pub fn app_reconcile(&self) -> AppTimer<'_> {
        self.reconciles
            .get_or_create(&ReconcileLabels {
                controller: "application",
            })
            .inc();
        AppTimer {
            metrics: self,
            start: crate::clock::stopwatch(),
        }
    }
}

/// Times a Git fetch; [`FetchTimer::done`] records it.
#[derive(Debug)]
pub struct FetchTimer<'a> {
    metrics: &'a Metrics,
    start: Instant,
}

impl FetchTimer<'_> {
    /// Records the fetch and its outcome.
    pub fn done(self, ok: bool) {
        self.metrics
            .git_fetch_duration
            .observe(self.start.elapsed().as_secs_f64());
        let result = if ok { "ok" } else { "error" };
        self.metrics.git_fetches.get_or_create(&ResultLabels { result }).inc();
    }
}

/// Records an Application reconcile's duration on drop.
#[derive(Debug)]
pub struct AppTimer<'a> {
    metrics: &'a Metrics,
    start: Instant,
}

impl Drop for AppTimer<'_> {
    fn drop(&mut self) {
        self.metrics.app_duration.observe(self.start.elapsed().as_secs_f64());
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
