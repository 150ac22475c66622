//! Serves the application metrics of every simulated pod at `/metrics`, from reflectors over pods,
//! Services and the traffic routers' objects (requests follow their weights, see `super::traffic`).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Pod, Service};
use kube::api::{ApiResource, DynamicObject};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use tokio::task::JoinHandle;

use super::{metrics, remote_write, traffic};

/// Requests per second each ready pod answers, unless configured otherwise.
pub const DEFAULT_REQUEST_RATE: f64 = 10.0;

struct Shared {
    pods: Store<Pod>,
    services: Store<Service>,
    /// Router objects by kind (Gateway API `HTTPRoute`, `GRPCRoute`; Istio `VirtualService`,
    /// `DestinationRule`;
    /// `Ingress`; SMI `TrafficSplit`), empty where their CRDs are not installed.
    routes: Vec<(&'static str, Store<DynamicObject>)>,
    rate: f64,
    meter: std::sync::Mutex<traffic::Meter>,
}

impl Shared {
    /// The series of every ready pod at `now`, with the requests each answered so far.
    fn series(&self) -> Vec<metrics::PodSeries> {
        let pods = self.pods.state();
        let Ok(mut meter) = self.meter.lock() else {
            return Vec::new();
        };
        // Read the time under the lock, so the meter's observations are in time order.
        let now = jiff::Timestamp::now();
        let ready: Vec<(&Pod, metrics::PodSeries)> = pods
            .iter()
            .filter_map(|p| metrics::series(p, now).map(|s| (&**p, s)))
            .collect();
        let routes: Vec<serde_json::Value> = self
            .routes
            .iter()
            .flat_map(|(kind, store)| store.state().into_iter().map(move |r| (*kind, r)))
            .filter_map(|(kind, r)| {
                // List items of built-in kinds carry no kind; the store says which it is.
                let mut value = serde_json::to_value(&*r).ok()?;
                value["kind"] = serde_json::Value::from(kind);
                Some(value)
            })
            .collect();
        let services = self.services.state();
        let services: Vec<&Service> = services.iter().map(|s| &**s).collect();
        let pods_ready: Vec<&Pod> = ready.iter().map(|(p, _)| *p).collect();
        let shares = traffic::shares(&pods_ready, &services, &routes);
        let rates = ready
            .iter()
            .map(|(_, s)| {
                let id = format!("{}/{}", s.namespace, s.pod);
                let share = shares.get(&id).copied().unwrap_or(1.0);
                (id, self.rate * share)
            })
            .collect();
        let mut series: Vec<metrics::PodSeries> = ready.into_iter().map(|(_, s)| s).collect();
        meter.observe(now, &mut series, &rates);
        series
    }
}

/// Follows a kind into a store; a kind the server does not serve leaves the store empty (the
/// watcher retries with backoff, so a CRD installed later is picked up).
fn follow<K>(api: Api<K>) -> (Store<K>, impl std::future::Future<Output = ()>)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
    K::DynamicType: Default + Eq + std::hash::Hash + Clone,
{
    let (reader, writer) = reflector::store();
    let stream = reflector::reflector(writer, watcher(api, watcher::Config::default()).default_backoff())
        .applied_objects()
        .for_each(|_| async {});
    (reader, stream)
}

/// The same for a router's route kind (`group/version`, plural, kind).
fn follow_routes(
    client: Client,
    (group, version): (&str, &str),
    plural: &str,
    kind: &str,
) -> (Store<DynamicObject>, impl std::future::Future<Output = ()>) {
    let resource = ApiResource {
        group: group.into(),
        version: version.into(),
        api_version: format!("{group}/{version}"),
        kind: kind.into(),
        plural: plural.into(),
    };
    let writer = reflector::store::Writer::new(resource.clone());
    let reader = writer.as_reader();
    let api = Api::<DynamicObject>::all_with(client, &resource);
    let stream = reflector::reflector(writer, watcher(api, watcher::Config::default()).default_backoff())
        .applied_objects()
        .for_each(|_| async {});
    (reader, stream)
}

async fn exposition(State(shared): State<Arc<Shared>>) -> ([(axum::http::HeaderName, &'static str); 1], String) {
    let mut series = shared.series();
    series.sort_by(|a, b| (&a.namespace, &a.pod).cmp(&(&b.namespace, &b.pod)));
    (
        [(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        metrics::render(&series),
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
        .series()
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
    let (pods, follow_pods) = follow(Api::<Pod>::all(client.clone()));
    let (services, follow_services) = follow(Api::<Service>::all(client.clone()));
    let gateway = ("gateway.networking.k8s.io", "v1");
    let (http, follow_http) = follow_routes(client.clone(), gateway, "httproutes", "HTTPRoute");
    let (grpc, follow_grpc) = follow_routes(client.clone(), gateway, "grpcroutes", "GRPCRoute");
    let istio = ("networking.istio.io", "v1beta1");
    let (vs, follow_vs) = follow_routes(client.clone(), istio, "virtualservices", "VirtualService");
    let (dr, follow_dr) = follow_routes(client.clone(), istio, "destinationrules", "DestinationRule");
    let networking = ("networking.k8s.io", "v1");
    let (ingresses, follow_ingresses) = follow_routes(client.clone(), networking, "ingresses", "Ingress");
    let smi = ("split.smi-spec.io", "v1alpha1");
    let (splits, follow_splits) = follow_routes(client.clone(), smi, "trafficsplits", "TrafficSplit");
    let follow = async {
        tokio::join!(
            follow_pods,
            follow_services,
            follow_http,
            follow_grpc,
            follow_vs,
            follow_dr,
            follow_ingresses,
            follow_splits
        );
    };
    let shared = Arc::new(Shared {
        pods,
        services,
        routes: vec![
            ("HTTPRoute", http),
            ("GRPCRoute", grpc),
            ("VirtualService", vs),
            ("DestinationRule", dr),
            ("Ingress", ingresses),
            ("TrafficSplit", splits),
        ],
        rate,
        meter: std::sync::Mutex::default(),
    });
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
                let pods = shared.series();
                let series = remote_write::series_at(&pods, now.as_millisecond());
                if let Err(err) = remote_write::push(&http, &url, series).await {
                    tracing::warn!(%err, "remote write failed; retrying at the next push");
                }
            }
        };
        tokio::join!(follow, serve, push);
    });
    Ok((local, task))
}
