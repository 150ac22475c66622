//! Metric providers behind one trait: a new provider is a new file plus one line in [`Providers`].

mod http;
pub mod job;
mod jsonpath;
mod oauth2;
mod prometheus;
mod web;

use std::sync::Arc;

use crds::analysis::{AnalysisPhase, Measurement};
use futures::future::BoxFuture;
use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

pub use job::JobProvider;
pub use prometheus::PrometheusProvider;
pub use web::WebProvider;

use crate::condition::ResultValue;
use crate::run::CompiledMetric;

/// The run a measurement belongs to.
#[derive(Clone, Debug)]
pub struct RunRef {
    /// Run name.
    pub name: String,
    /// Run namespace.
    pub namespace: String,
    /// Run UID (Jobs are labelled with it and owned by the run).
    pub uid: String,
}

/// A source of measurements.
pub trait Provider: Send + Sync {
    /// Takes measurement number `sequence` (1-based) of a metric. Failures are returned as an Error measurement with the
    /// provider's own message, never as a panic or a silent pass.
    fn run<'a>(
        &'a self,
        run: &'a RunRef,
        metric: &'a CompiledMetric,
        sequence: i32,
        now: Timestamp,
    ) -> BoxFuture<'a, Measurement>;

    /// Checks an in-flight measurement again. Providers that measure synchronously never leave one.
    fn resume<'a>(
        &'a self,
        run: &'a RunRef,
        metric: &'a CompiledMetric,
        measurement: Measurement,
        now: Timestamp,
    ) -> BoxFuture<'a, Measurement> {
        let _ = (run, metric, now);
        Box::pin(async move { measurement })
    }

    /// Stops an in-flight measurement because the run is terminating; it ends Successful.
    fn terminate<'a>(
        &'a self,
        run: &'a RunRef,
        metric: &'a CompiledMetric,
        measurement: Measurement,
        now: Timestamp,
    ) -> BoxFuture<'a, Measurement> {
        let _ = (run, metric);
        Box::pin(async move { terminated(measurement, now) })
    }
}

/// The providers the controller offers.
#[derive(Clone)]
pub struct Providers {
    prometheus: Arc<PrometheusProvider>,
    web: Arc<WebProvider>,
    job: Option<Arc<JobProvider>>,
}

impl std::fmt::Debug for Providers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Providers")
            .field("supported", &self.supported())
            .finish()
    }
}

impl Providers {
    /// Prometheus and web, plus Job when a Kubernetes client is given.
    pub fn new(prometheus: PrometheusProvider, web: WebProvider, job: Option<JobProvider>) -> Self {
        Self {
            prometheus: Arc::new(prometheus),
            web: Arc::new(web),
            job: job.map(Arc::new),
        }
    }

    /// The provider kinds that can be measured.
    pub fn supported(&self) -> Vec<&'static str> {
        let mut kinds = vec!["prometheus", "web"];
        if self.job.is_some() {
            kinds.push("job");
        }
        kinds
    }

    /// The provider for a kind.
    pub fn get(&self, kind: &str) -> Option<&dyn Provider> {
        match kind {
            "prometheus" => Some(self.prometheus.as_ref()),
            "web" => Some(self.web.as_ref()),
            "job" => self.job.as_deref().map(|job| job as &dyn Provider),
            _ => None,
        }
    }
}

/// A measurement started now.
pub(crate) fn started(now: Timestamp) -> Measurement {
    Measurement {
        phase: Some(AnalysisPhase::Running),
        started_at: Some(Time(now)),
        ..Measurement::default()
    }
}

/// Ends a measurement in Error with `message`.
pub(crate) fn errored(mut measurement: Measurement, now: Timestamp, message: impl Into<String>) -> Measurement {
    measurement.phase = Some(AnalysisPhase::Error);
    measurement.message = Some(message.into());
    measurement.finished_at = Some(Time(now));
    measurement.resume_at = None;
    measurement
}

/// Ends a measurement as terminated.
pub(crate) fn terminated(mut measurement: Measurement, now: Timestamp) -> Measurement {
    measurement.phase = Some(AnalysisPhase::Successful);
    measurement.message = Some("Metric Terminated".to_string());
    measurement.finished_at = Some(Time(now));
    measurement.resume_at = None;
    measurement
}

/// Completes a measurement from what the provider got: judged by the metric's conditions, or an
/// Error with the provider's message. It finishes at `finished` (or at `started`, if the clock
/// went back).
pub(crate) fn concluded(
    mut measurement: Measurement,
    metric: &CompiledMetric,
    outcome: Result<ResultValue, String>,
    started: Timestamp,
    finished: Timestamp,
) -> Measurement {
    let now = finished.max(started);
    let value = match outcome {
        Ok(value) => value,
        Err(message) => return errored(measurement, now, message),
    };
    measurement.value = Some(value.render());
    measurement.finished_at = Some(Time(now));
    match metric.conditions.assess(&value) {
        Ok(phase) => measurement.phase = Some(phase),
        Err(error) => {
            measurement.phase = Some(AnalysisPhase::Error);
            measurement.message = Some(error.to_string());
        }
    }
    measurement
}
