//! What every reconcile gets: the client, providers, event recorder, metrics and caches.

use std::collections::HashMap;
use std::sync::Arc;

use analysis::args::ResolvedArgs;
use analysis::providers::{JobProvider, PrometheusProvider, Providers, WebProvider};
use analysis::run::CompiledRun;
use kube::runtime::events::{Recorder, Reporter};
use parking_lot::Mutex;

use crate::telemetry::Metrics;

/// A run compiled when it started, with its arguments (secrets included, kept in memory only).
#[derive(Debug)]
pub struct StartedRun {
    /// The compiled run, or why it cannot run.
    pub compiled: Result<CompiledRun, String>,
    /// Resolved arguments, used to mask secret values in what is written.
    pub args: ResolvedArgs,
}

/// Started runs by (UID, generation).
pub type StartedRuns = Arc<Mutex<HashMap<(String, i64), Arc<StartedRun>>>>;

/// Shared state of the controller.
#[derive(Clone)]
pub struct Context {
    /// Kubernetes client.
    pub client: kube::Client,
    /// Metric providers.
    pub providers: Providers,
    /// Event recorder.
    pub recorder: Recorder,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Compiled runs by (UID, generation): conditions are parsed once per run.
    pub started: StartedRuns,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context").finish_non_exhaustive()
    }
}

impl Context {
    /// A context for `client`, with the given providers.
    pub fn new(client: kube::Client, providers: Providers) -> Self {
        let recorder = Recorder::new(
            client.clone(),
            Reporter {
                controller: "sluice".to_string(),
                instance: None,
            },
        );
        Self {
            client,
            providers,
            recorder,
            metrics: Arc::new(Metrics::default()),
            started: Arc::default(),
        }
    }
}

/// The providers the controller offers: Prometheus (with `prometheus_address` for metrics that do
/// not set one), web, and Job through `client`.
///
/// # Errors
/// When the HTTP clients cannot be built.
pub fn default_providers(
    client: kube::Client,
    prometheus_address: Option<String>,
) -> Result<Providers, reqwest::Error> {
    // reqwest's rustls backend needs a process-wide crypto provider before a client is built.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Ok(Providers::new(
        PrometheusProvider::new(prometheus_address)?,
        WebProvider::new()?,
        Some(JobProvider::new(client)),
    ))
}
