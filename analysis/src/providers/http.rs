//! HTTP clients shared by the Prometheus and web providers (one verifying TLS, one not).

use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};

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

/// A user-given header, checked: a clear error names the header instead of a failed request.
pub(crate) fn header(key: &str, value: &str) -> Result<(HeaderName, HeaderValue), String> {
    let name =
        HeaderName::from_bytes(key.as_bytes()).map_err(|_| format!("headers: {key:?} is not a valid header name"))?;
    let value = HeaderValue::from_str(value)
        .map_err(|_| format!("headers: the value of {key:?} is not a valid header value"))?;
    Ok((name, value))
}

/// `context: error: cause: cause...`, so a connection failure says what actually failed.
pub(crate) fn error_chain(context: &str, error: &dyn std::error::Error) -> String {
    format!("{context}: {}", crds::errors::chain(error))
}
