//! Git push webhooks (`POST /api/webhook` on the controller's endpoint): the request is verified
//! with the secrets of Argo CD's `argocd-secret` (`webhook.github.secret`, `webhook.gitlab.secret`,
//! `webhook.gogs.secret`) and read by `gitops::webhook`; a push fetches its repository once and
//! refreshes only the Applications on that repository and branch whose paths it touched.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use crds::gitops::StoredApplication;
use crds::keys::MANIFEST_GENERATE_PATHS_ANNOTATION;
use gitops::webhook::{Push, Refused, Secrets};
use k8s_openapi::api::core::v1::Secret;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Api, ResourceExt as _};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::mpsc::{Receiver as Queue, Sender, UnboundedSender};

use super::GitOps;

use super::render::access;

/// What the endpoint needs to take pushes.
#[derive(Clone)]
pub struct Receiver {
    /// To read `argocd-secret`.
    pub client: kube::Client,
    /// The Application namespace.
    pub namespace: String,
    /// Where pushes go (at most [`QUEUE`] waiting).
    pub pushes: Sender<Push>,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

async fn secrets(receiver: &Receiver) -> Secrets {
    let api: Api<Secret> = Api::namespaced(receiver.client.clone(), &receiver.namespace);
    let Ok(Some(secret)) = api.get_opt("argocd-secret").await else {
        return Secrets::default();
    };
    let value = |key: &str| crds::secrets::text(&secret, key).filter(|v| !v.is_empty());
    Secrets {
        github: value("webhook.github.secret"),
        gitlab: value("webhook.gitlab.secret"),
        gogs: value("webhook.gogs.secret"),
    }
}

/// Pushes that may wait for the reconciler. A standby replica (which the Service also reaches)
/// holds at most this many until it leads, instead of growing without bound;
/// polling covers what it refuses.
pub const QUEUE: usize = 256;

/// `POST /api/webhook`: 200 for a push taken, 503 when [`QUEUE`] pushes already wait, 401 for a bad signature, 400 for what is not a push.
pub async fn handle(State(receiver): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> (StatusCode, String) {
    let pairs: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    match gitops::webhook::parse(&pairs, &body, &secrets(&receiver).await) {
        Ok(push) => {
            let message = format!("push to {} ({}) received\n", push.urls[0], push.revision);
            match receiver.pushes.try_send(push) {
                Ok(()) | Err(TrySendError::Closed(_)) => (StatusCode::OK, message),
                Err(TrySendError::Full(_)) => {
                    tracing::warn!("webhook queue full; polling picks the push up");
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        "too many pushes waiting; retry later\n".into(),
                    )
                }
            }
        }
        Err(Refused::Unauthorized(message)) => {
            tracing::warn!(%message, "webhook refused");
            (StatusCode::UNAUTHORIZED, format!("{message}\n"))
        }
        Err(Refused::Unsupported(message)) => (StatusCode::BAD_REQUEST, format!("{message}\n")),
    }
}

/// Takes pushes until the channel closes: fetches each concerned repository once, then wakes
/// the Applications the push concerns.
pub async fn run(
    ctx: Arc<GitOps>,
    apps: Store<StoredApplication>,
    mut pushes: Queue<Push>,
    wake: UnboundedSender<ObjectRef<StoredApplication>>,
) {
    while let Some(push) = pushes.recv().await {
        let concerned: Vec<_> = apps
            .state()
            .into_iter()
            .filter(|app| {
                app.spec.primary_source().is_some_and(|s| {
                    gitops::webhook::concerns(&push, &s.repo_url, s.target_revision.as_deref().unwrap_or("HEAD"))
                        && gitops::webhook::touches(
                            &push.changed,
                            s.path.as_deref().unwrap_or_default(),
                            app.annotations()
                                .get(MANIFEST_GENERATE_PATHS_ANNOTATION)
                                .map(String::as_str),
                        )
                })
            })
            .collect();
        let mut fetched: Vec<String> = Vec::new();
        for app in &concerned {
            let Some(url) = app.spec.primary_source().map(|s| s.repo_url.clone()) else {
                continue;
            };
            if !fetched.contains(&url) {
                fetch(&ctx, &url).await;
                fetched.push(url);
            }
            let _ = wake.send(ObjectRef::from_obj(&**app));
        }
        tracing::info!(repository = %push.urls[0], revision = %push.revision, applications = concerned.len(), "push received");
    }
}

async fn fetch(ctx: &Arc<GitOps>, url: &str) {
    let Ok(access) = access(ctx, url) else { return };
    let (shared, url) = (ctx.clone(), url.to_owned());
    let _ = tokio::task::spawn_blocking(move || {
        let seen = shared.repos.fetch_count(&url);
        let timer = shared.base.metrics.git_fetch();
        let result = shared.repos.fetch(&url, &access, seen);
        timer.done(result.is_ok());
        if let Err(error) = result {
            tracing::warn!(%error, "fetch after a push failed");
        }
    })
    .await;
}
