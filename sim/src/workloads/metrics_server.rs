//! Serves the application metrics of every simulated pod at `/metrics`, from a reflector over pods.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use tokio::task::JoinHandle;

use super::{metrics, remote_write};

/// Requests per second each ready pod answers, unless configured otherwise.
pub const DEFAULT_REQUEST_RATE: f64 = 10.0;

struct Shared {
    pods: Store<Pod>,
    rate: f64,
}

impl Shared {
    /// The series of every ready pod at `now`.
    fn series(&self, now: jiff::Timestamp) -> Vec<metrics::PodSeries> {
        self.pods
            .state()
            .iter()
            .filter_map(|p| metrics::series(p, now))
            .collect()
    }
}

async fn exposition(State(shared): State<Arc<Shared>>) -> ([(axum::http::HeaderName, &'static str); 1], String) {
    let mut series = shared.series(jiff::Timestamp::now());
    series.sort_by(|a, b| (&a.namespace, &a.pod).cmp(&(&b.namespace, &b.pod)));
    (
        [(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        metrics::render(&series, shared.rate),
    )
}

/// `GET /success-rate?job=J&rollouts_pod_template_hash=H`: the share of requests answered without
/// a 5xx by the ready pods matching the filters (what the success-rate PromQL query gives), as JSON
/// `{"successRate": 0.97, "pods": 3}`, for the web metric provider when no Prometheus runs. With no
/// matching pod, `successRate` is null.
async fn success_rate(
    State(shared): State<Arc<Shared>>,
    axum::extract::Query(filter): axum::extract::Query<std::collections::BTreeMap<String, String>>,
) -> axum::Json<serde_json::Value> {
    let pods: Vec<metrics::PodSeries> = shared
        .series(jiff::Timestamp::now())
        .into_iter()
        .filter(|p| filter.get("job").is_none_or(|j| *j == p.job))
        .filter(|p| filter.get("namespace").is_none_or(|n| *n == p.namespace))
        .filter(|p| filter.get("rollouts_pod_template_hash").is_none_or(|h| *h == p.hash))
        .collect();
    #[allow(clippy::cast_precision_loss)] // a handful of pods
    let rate =
        (!pods.is_empty()).then(|| pods.iter().map(|p| p.behaviour.success_rate).sum::<f64>() / pods.len() as f64);
    axum::Json(serde_json::json!({"successRate": rate, "pods": pods.len()}))
}

/// How often samples are pushed with remote write.
pub const PUSH_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Starts the metrics endpoint on `addr` (`127.0.0.1:0` picks a free port) and, with
/// `remote_write`, pushes the same samples to that Prometheus remote-write URL every
/// [`PUSH_EVERY`]; returns where it listens and the task doing all of it.
///
/// # Errors
/// When the address cannot be opened.
pub async fn serve(
    client: Client,
    addr: &str,
    rate: f64,
    remote_write: Option<String>,
) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let (reader, writer) = reflector::store();
    let follow = reflector::reflector(writer, watcher(Api::<Pod>::all(client), watcher::Config::default()))
        .applied_objects()
        .for_each(|_| async {});
    let shared = Arc::new(Shared { pods: reader, rate });
    let app = Router::new()
        .route("/metrics", get(exposition))
        .route("/success-rate", get(success_rate))
        .with_state(shared.clone());
    let task = tokio::spawn(async move {
        let serve = async {
            if let Err(err) = axum::serve(listener, app).await {
                tracing::error!(%err, "metrics endpoint stopped");
            }
        };
        let push = async {
            let Some(url) = remote_write else { return };
            crate::tls::ensure_crypto_provider();
            let http = reqwest::Client::new();
            let mut tick = tokio::time::interval(PUSH_EVERY);
            loop {
                tick.tick().await;
                let now = jiff::Timestamp::now();
                let pods = shared.series(now);
                let series = remote_write::series_at(&pods, shared.rate, now.as_millisecond());
                if let Err(err) = remote_write::push(&http, &url, series).await {
                    tracing::warn!(%err, "remote write failed; retrying at the next push");
                }
            }
        };
        tokio::join!(follow, serve, push);
    });
    Ok((local, task))
}
