//! What every reconciler gets: the client, the event recorder, the metrics and the clock. Each
//! reconciler wraps it in a context of its own with what only it needs (watch caches, providers).

use std::sync::Arc;

use kube::runtime::events::{Recorder, Reporter};

use crate::clock::{SharedClock, SystemClock};
use crate::metrics::Metrics;
use crate::params::FIELD_MANAGER;

/// Shared state of the controller.
#[derive(Clone)]
pub struct Context {
    /// Kubernetes client.
    pub client: kube::Client,
    /// Event recorder.
    pub recorder: Recorder,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// The time.
    pub clock: SharedClock,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl Context {
    /// A context for `client` on the system clock.
    #[must_use]
    pub fn new(client: kube::Client) -> Self {
        Self::with_clock(client, Arc::new(SystemClock))
    }

    /// A context for `client` reading the time from `clock`.
    #[must_use]
    pub fn with_clock(client: kube::Client, clock: SharedClock) -> Self {
        let recorder = Recorder::new(
            client.clone(),
            Reporter {
                controller: FIELD_MANAGER.to_string(),
                instance: None,
            },
        );
        Self {
            client,
            recorder,
            metrics: Arc::new(Metrics::default()),
            clock,
        }
    }
}
