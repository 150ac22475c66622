//! The `prometheus` provider: an instant (or range) PromQL query through `prometheus-http-query`.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;
use crds::analysis::{Measurement, PrometheusMetric};
use crds::clock::SharedClock;
use crds::defaults::PROMETHEUS_TIMEOUT_SECONDS;
use futures::future::BoxFuture;
use jiff::Timestamp;
use prometheus_http_query::response::{Data, PromqlResult};
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};

use super::http::{HttpClients, error_chain, header};
use super::oauth2::TokenCache;
use super::{Provider, RunRef, concluded, errored, started};
use crate::condition::ResultValue;
use crate::run::CompiledMetric;

/// Queries Prometheus.
#[derive(Debug)]
pub struct PrometheusProvider {
    default_address: Option<String>,
    clock: SharedClock,
    http: HttpClients,
    tokens: TokenCache,
}

/// Prometheus' JSON envelope around a query result.
#[derive(serde::Deserialize)]
struct Envelope {
    status: String,
    #[serde(default)]
    data: Option<serde_json::Value>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    warnings: Vec<String>,
    #[serde(default)]
    infos: Vec<String>,
}

impl PrometheusProvider {
    /// A provider using `default_address` for metrics without `address`
    /// (Argo's `ARGO_ROLLOUTS_PROMETHEUS_ADDRESS`), reading the time from `clock`.
    ///
    /// # Errors
    /// When the HTTP clients cannot be built.
    pub fn new(default_address: Option<String>, clock: SharedClock) -> Result<Self, reqwest::Error> {
        Ok(Self {
            default_address: default_address.filter(|a| !a.trim().is_empty()),
            clock,
            http: HttpClients::new()?,
            tokens: TokenCache::default(),
        })
    }

    async fn measure(&self, metric: &CompiledMetric, now: Timestamp) -> Measurement {
        let measurement = started(now);
        let Some(spec) = metric.metric.provider.prometheus.as_ref() else {
            return errored(measurement, now, "metric has no prometheus provider");
        };
        let mut metadata = BTreeMap::new();
        let outcome = self.query(spec, &mut metadata).await;
        let mut measured = concluded(measurement, metric, outcome, now, self.clock.now());
        measured.metadata = metadata;
        measured
    }

    async fn query(
        &self,
        spec: &PrometheusMetric,
        metadata: &mut BTreeMap<String, String>,
    ) -> Result<ResultValue, String> {
        let address = spec
            .address
            .as_deref()
            .filter(|a| !a.trim().is_empty())
            .or(self.default_address.as_deref())
            .ok_or("no Prometheus address: set provider.prometheus.address or the controller's --prometheus-address")?;
        if address.contains("aps-workspaces") && spec.authentication.as_ref().is_some_and(|a| a.sigv4.is_some()) {
            return Err("sigv4 authentication is not supported".to_string());
        }
        let insecure = spec.insecure.unwrap_or(false);
        let http = self.http.get(insecure).clone();
        let client = prometheus_http_query::Client::from(http.clone(), address)
            .map_err(|e| format!("invalid Prometheus address {address:?}: {e}"))?;
        let timeout = spec.timeout.unwrap_or(PROMETHEUS_TIMEOUT_SECONDS);
        if timeout < 0 {
            return Err(format!("timeout {timeout} must not be negative"));
        }
        let headers = self.headers(&http, spec).await?;
        let range = spec.range_query.as_ref().map(range_bounds).transpose()?;
        let request = async {
            match range {
                None => {
                    let mut query = client.query(&spec.query);
                    for (name, value) in headers {
                        query = query.header(name, value);
                    }
                    query.get_raw().await
                }
                Some((start, end, step)) => {
                    let mut query = client.query_range(&spec.query, start, end, step);
                    for (name, value) in headers {
                        query = query.header(name, value);
                    }
                    query.get_raw().await
                }
            }
            .map_err(|e| error_chain(address, &e))
        };
        let response = tokio::time::timeout(Duration::from_secs(timeout.unsigned_abs().max(1)), request)
            .await
            .map_err(|_| format!("query to {address} timed out after {timeout}s"))??;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|e| format!("reading the answer of {address}: {e}"))?;
        let envelope: Envelope = serde_json::from_str(&body).map_err(|_| {
            format!(
                "{address} answered {status} without a Prometheus response: {}",
                snippet(&body)
            )
        })?;
        if envelope.status != "success" {
            let kind = envelope.error_type.unwrap_or_else(|| "error".to_string());
            return Err(format!("{kind}: {}", envelope.error.unwrap_or_default()));
        }
        let data = envelope.data.ok_or("Prometheus answered success without data")?;
        let result: PromqlResult =
            serde_json::from_value(data).map_err(|e| format!("unexpected Prometheus result: {e}"))?;
        if !envelope.warnings.is_empty() {
            metadata.insert("warnings".to_string(), envelope.warnings.join("; "));
        }
        if !envelope.infos.is_empty() {
            metadata.insert("infos".to_string(), envelope.infos.join("; "));
        }
        Ok(to_result(result.data()))
    }

    async fn headers(
        &self,
        http: &reqwest::Client,
        spec: &PrometheusMetric,
    ) -> Result<Vec<(HeaderName, HeaderValue)>, String> {
        let mut headers = Vec::new();
        for h in &spec.headers {
            headers.push(header(&h.key, &h.value)?);
        }
        let auth = spec.authentication.as_ref();
        if let Some(basic) = auth.and_then(|a| a.basic_auth.as_ref()) {
            let pair = format!(
                "{}:{}",
                basic.username.as_deref().unwrap_or_default(),
                basic.password.as_deref().unwrap_or_default()
            );
            let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
            headers.push((AUTHORIZATION, bearer_or_basic("Basic", &encoded)?));
        }
        if let Some(oauth2) = auth.and_then(|a| a.oauth2.as_ref()).filter(|o| o.token_url.is_some()) {
            let token = self.tokens.token(http, oauth2, self.clock.now()).await?;
            headers.push((AUTHORIZATION, bearer_or_basic("Bearer", &token)?));
        }
        Ok(headers)
    }
}

fn bearer_or_basic(scheme: &str, credentials: &str) -> Result<HeaderValue, String> {
    let mut value = HeaderValue::from_str(&format!("{scheme} {credentials}"))
        .map_err(|_| format!("{scheme} credentials are not a valid header value"))?;
    value.set_sensitive(true);
    Ok(value)
}

/// Scalar: a float; vector and matrix: every sample value, flattened.
fn to_result(data: &Data) -> ResultValue {
    match data {
        Data::Scalar(sample) => ResultValue::Scalar(sample.value()),
        Data::Vector(vector) => ResultValue::Vector(vector.iter().map(|v| v.sample().value()).collect()),
        Data::Matrix(matrix) => ResultValue::Vector(
            matrix
                .iter()
                .flat_map(|r| r.samples().iter().map(|s| s.value()))
                .collect(),
        ),
    }
}

/// Evaluates `rangeQuery.start` / `end` (expr expressions such as `now() - duration("10m")`,
/// defaulting to now) and parses `step`, giving Unix seconds and step seconds.
fn range_bounds(range: &crds::analysis::PrometheusRangeQuery) -> Result<(i64, i64, f64), String> {
    let time = |field: &str, text: Option<&str>| -> Result<i64, String> {
        let text = text.map(str::trim).filter(|t| !t.is_empty()).unwrap_or("now()");
        let value =
            expr::eval(text, &expr::Context::default()).map_err(|e| format!("rangeQuery.{field} {text:?}: {e}"))?;
        value
            .as_datetime()
            .map(|t| t.timestamp())
            .ok_or_else(|| format!("rangeQuery.{field} {text:?} is not a time (try now() - duration(\"5m\"))"))
    };
    let start = time("start", range.start.as_deref())?;
    let end = time("end", range.end.as_deref())?;
    let step_text = range.step.as_deref().unwrap_or_default();
    let step = crds::duration::parse(step_text).map_err(|e| format!("rangeQuery.step: {e}"))?;
    if !step.is_positive() {
        return Err(format!("rangeQuery.step {step_text:?} must be longer than zero"));
    }
    Ok((start, end, step.as_secs_f64()))
}

fn snippet(body: &str) -> String {
    let trimmed = body.trim();
    let cut: String = trimmed.chars().take(200).collect();
    if cut.len() < trimmed.len() {
        format!("{cut}...")
    } else {
        cut
    }
}

impl Provider for PrometheusProvider {
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
