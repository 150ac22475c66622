//! Pushes the application metrics straight into Prometheus through its remote-write receiver
//! (`--web.enable-remote-write-receiver`): the fast path for tests, which can also push the last
//! minutes of history at once so that `rate(...[5m])` answers immediately.

use std::time::Duration;

use super::metrics::{self, PodSeries};

/// A label of a remote-write series.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Label {
    /// Label name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Label value.
    #[prost(string, tag = "2")]
    pub value: String,
}

/// One sample.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Sample {
    /// Value.
    #[prost(double, tag = "1")]
    pub value: f64,
    /// Milliseconds since the epoch.
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// One series and its samples.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    /// Labels, `__name__` included, sorted by name.
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// Samples in time order.
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
}

/// The remote-write request body (Prometheus remote write 1.0).
#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteRequest {
    /// The series.
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
}

/// A failed push.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The body could not be compressed.
    #[error("cannot compress the remote-write body")]
    Compress(#[from] snap::Error),
    /// Prometheus could not be reached.
    #[error("cannot reach {url}")]
    Http {
        /// The receiver URL.
        url: String,
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
    /// Prometheus refused the samples.
    #[error("{url} answered {status}: {body}")]
    Refused {
        /// The receiver URL.
        url: String,
        /// HTTP status.
        status: u16,
        /// Prometheus' message.
        body: String,
    },
}

/// The series of the exposition as remote-write series, one sample each, at `at_ms`.
#[must_use]
pub fn series_at(pods: &[PodSeries], at_ms: i64) -> Vec<TimeSeries> {
    let text = metrics::render(pods);
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|line| parse_line(line, at_ms))
        .collect()
}

/// Parses `name{a="b",...} value` into a series with one sample.
fn parse_line(line: &str, at_ms: i64) -> Option<TimeSeries> {
    let (head, value) = line.rsplit_once(' ')?;
    let value: f64 = value.parse().ok()?;
    let (name, rest) = head.split_once('{').unwrap_or((head, "}"));
    let mut labels = vec![Label {
        name: "__name__".into(),
        value: name.into(),
    }];
    for pair in rest.trim_end_matches('}').split("\",").filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once("=\"")?;
        labels.push(Label {
            name: k.into(),
            value: v.trim_end_matches('"').into(),
        });
    }
    labels.sort_by(|a, b| a.name.cmp(&b.name));
    Some(TimeSeries {
        labels,
        samples: vec![Sample {
            value,
            timestamp: at_ms,
        }],
    })
}

/// Series for the pods as they were over the last `history`, one sample per `step`, ending now,
/// each answering `rate` requests a second (each pod's serving time shifted back accordingly;
/// pods not yet serving are left out).
#[must_use]
pub fn history(
    pods: &[PodSeries],
    rate: f64,
    now: jiff::Timestamp,
    history: Duration,
    step: Duration,
) -> Vec<TimeSeries> {
    let mut merged: Vec<TimeSeries> = Vec::new();
    let steps = (history.as_millis() / step.as_millis().max(1)) as i64;
    for i in (0..=steps).rev() {
        let back = step.as_secs_f64() * i as f64;
        let then: Vec<PodSeries> = pods
            .iter()
            .filter(|p| p.serving_seconds >= back)
            .map(|p| PodSeries {
                serving_seconds: p.serving_seconds - back,
                requests: rate * (p.serving_seconds - back),
                ..p.clone()
            })
            .collect();
        let at = now.as_millisecond() - (back * 1000.0) as i64;
        for ts in series_at(&then, at) {
            match merged.iter_mut().find(|m| m.labels == ts.labels) {
                Some(m) => m.samples.extend(ts.samples),
                None => merged.push(ts),
            }
        }
    }
    merged
}

/// Pushes series to a remote-write receiver such as `http://127.0.0.1:9090/api/v1/write`.
///
/// # Errors
/// [`PushError`] when Prometheus cannot be reached or refuses the samples.
pub async fn push(client: &reqwest::Client, url: &str, series: Vec<TimeSeries>) -> Result<(), PushError> {
    let body = prost::Message::encode_to_vec(&WriteRequest { timeseries: series });
    let compressed = snap::raw::Encoder::new().compress_vec(&body)?;
    let response = client
        .post(url)
        .header("Content-Type", "application/x-protobuf")
        .header("Content-Encoding", "snappy")
        .header("X-Prometheus-Remote-Write-Version", "0.1.0")
        .body(compressed)
        .send()
        .await
        .map_err(|source| PushError::Http {
            url: url.to_owned(),
            source,
        })?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let body = response.text().await.unwrap_or_default();
    Err(PushError::Refused {
        url: url.to_owned(),
        status: status.as_u16(),
        body,
    })
}
