//! HTTP clients shared by the Prometheus and web providers (one verifying TLS, one not).

use std::time::Duration;

/// The two clients a provider needs.
#[derive(Clone, Debug)]
pub(crate) struct HttpClients {
    verifying: reqwest::Client,
    insecure: reqwest::Client,
}

impl HttpClients {
    /// Builds both clients.
    ///
    /// # Errors
    /// When the TLS backend cannot be initialised (no crypto provider installed).
    pub(crate) fn new() -> Result<Self, reqwest::Error> {
        let builder = || {
            reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .pool_max_idle_per_host(32)
        };
        Ok(Self {
            verifying: builder().build()?,
            insecure: builder().tls_danger_accept_invalid_certs(true).build()?,
        })
    }

    /// The client for `insecure`.
    pub(crate) fn get(&self, insecure: bool) -> &reqwest::Client {
        if insecure { &self.insecure } else { &self.verifying }
    }
}
