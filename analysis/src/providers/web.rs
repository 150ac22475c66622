//! The `web` provider: an HTTP request whose JSON (or text) answer is the result.

use std::time::Duration;

use crds::analysis::{Measurement, WebMetric};
use crds::clock::SharedClock;
use crds::defaults::{WEB_JSON_PATH, WEB_METHOD, WEB_TIMEOUT_SECONDS};
use futures::future::BoxFuture;
use jiff::Timestamp;

use super::http::{HttpClients, error_chain, header};
use super::jsonpath::select;
use super::oauth2::TokenCache;
use super::{Provider, RunRef, concluded, errored, started};
use crate::condition::ResultValue;
use crate::run::CompiledMetric;

/// Calls web endpoints.
#[derive(Debug)]
pub struct WebProvider {
    clock: SharedClock,
    http: HttpClients,
    tokens: TokenCache,
}

impl WebProvider {
    /// A web provider reading the time from `clock`.
    ///
    /// # Errors
    /// When the HTTP clients cannot be built.
    pub fn new(clock: SharedClock) -> Result<Self, reqwest::Error> {
        Ok(Self {
            clock,
            http: HttpClients::new()?,
            tokens: TokenCache::default(),
        })
    }

    async fn measure(&self, metric: &CompiledMetric, now: Timestamp) -> Measurement {
        let measurement = started(now);
        let Some(spec) = metric.metric.provider.web.as_ref() else {
            return errored(measurement, now, "metric has no web provider");
        };
        let outcome = self.call(spec).await;
        concluded(measurement, metric, outcome, now, self.clock.now())
    }

    async fn call(&self, spec: &WebMetric) -> Result<ResultValue, String> {
        let http = self.http.get(spec.insecure.unwrap_or(false));
        let method_name = spec.method.as_deref().unwrap_or(WEB_METHOD).to_uppercase();
        let method = match method_name.as_str() {
            "GET" => reqwest::Method::GET,
            "POST" => reqwest::Method::POST,
            "PUT" => reqwest::Method::PUT,
            other => return Err(format!("method {other:?} is not supported (GET, POST or PUT)")),
        };
        let timeout = spec.timeout_seconds.unwrap_or(WEB_TIMEOUT_SECONDS);
        let mut request = http
            .request(method, &spec.url)
            .timeout(Duration::from_secs(timeout.unsigned_abs().max(1)));
        for h in &spec.headers {
            let (name, value) = header(&h.key, &h.value)?;
            request = request.header(name, value);
        }
        if let Some(oauth2) = spec.authentication.as_ref().and_then(|a| a.oauth2.as_ref()) {
            request = request.bearer_auth(self.tokens.token(http, oauth2, self.clock.now()).await?);
        }
        if let Some(json) = &spec.json_body {
            request = request.json(json);
        } else if let Some(body) = &spec.body {
            request = request.body(body.clone());
        }
        let response = request.send().await.map_err(|e| error_chain(&spec.url, &e))?;
        let status = response.status();
        let body = response.text().await.map_err(|e| error_chain(&spec.url, &e))?;
        if !status.is_success() {
            return Err(format!("received non 2xx response code: {}", status.as_u16()));
        }
        let Ok(document) = serde_json::from_str::<serde_json::Value>(&body) else {
            return Ok(ResultValue::Text(body));
        };
        let path = spec.json_path.as_deref().unwrap_or(WEB_JSON_PATH);
        select(&document, path).map(ResultValue::Json)
    }
}

impl Provider for WebProvider {
    fn run<'a>(
        &'a self,
        _run: &'a RunRef,
        metric: &'a CompiledMetric,
        _sequence: i32,
        now: Timestamp,
    ) -> BoxFuture<'a, Measurement> {
        Box::pin(self.measure(metric, now))
    }
}
