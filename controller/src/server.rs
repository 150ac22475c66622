//! The controller's HTTP endpoint: `/metrics`, `/healthz` (the process runs), `/readyz` (it leads
//! and its reconcilers run; a standby replica answers 503) and, with the Application reconciler,
//! `POST /api/webhook` for Git push webhooks.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::metrics::Metrics;

/// Serves the endpoint on `addr` until the task is dropped.
///
/// # Errors
/// When the address cannot be bound.
pub async fn serve(
    addr: SocketAddr,
    metrics: Arc<Metrics>,
    ready: Arc<AtomicBool>,
    webhook: Option<crate::runtime::webhook::Receiver>,
) -> std::io::Result<()> {
    let readyz = get(move || {
        let ready = ready.load(Ordering::SeqCst);
        async move {
            if ready {
                (StatusCode::OK, "ok")
            } else {
                (StatusCode::SERVICE_UNAVAILABLE, "standby")
            }
        }
    });
    let mut app = Router::new()
        .route("/metrics", get(render))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", readyz)
        .with_state(metrics);
    if let Some(receiver) = webhook {
        // Argo CD's default payload cap is 50 MB; pushes are far smaller.
        let hooks = Router::new()
            .route("/api/webhook", axum::routing::post(crate::runtime::webhook::handle))
            .layer(axum::extract::DefaultBodyLimit::max(10 << 20))
            .with_state(Arc::new(receiver));
        app = app.merge(hooks);
    }
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, app).await
}

async fn render(State(metrics): State<Arc<Metrics>>) -> impl IntoResponse {
    (
        [(
            CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics.render(),
    )
}
