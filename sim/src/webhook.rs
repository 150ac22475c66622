//! An admission webhook server for tests, served over HTTPS on 127.0.0.1 with its own CA: it
//! answers `AdmissionReview`s the way a webhook in a real cluster does, and records what it was
//! sent. [`Behaviour::InjectSidecar`] mimics Istio's sidecar injector closely enough to reproduce
//! the sync loop GitOps users know: every admission sets the annotation `sidecar.istio.io/status`
//! to a new value and adds an `istio-init` init container.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::post;
use base64::Engine as _;
use parking_lot::Mutex;
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::SimError;
use crate::tls;

/// The annotation the sidecar injector writes.
pub const SIDECAR_STATUS: &str = "sidecar.istio.io/status";

/// What the webhook answers.
#[derive(Clone, Debug)]
pub enum Behaviour {
    /// Allow, with a patch that sets `sidecar.istio.io/status` (a new value each time) and adds an
    /// `istio-init` init container to a pod or a pod template.
    InjectSidecar,
    /// Refuse, with this HTTP code and message.
    Deny {
        /// The status code the webhook gives.
        code: u16,
        /// Its message.
        message: String,
    },
    /// Allow without changes.
    Allow,
}

struct Shared {
    behaviour: Behaviour,
    reviews: Mutex<Vec<Value>>,
    admissions: AtomicU64,
}

/// A running webhook server; dropping it stops it.
pub struct WebhookServer {
    addr: SocketAddr,
    ca_pem: String,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for WebhookServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl WebhookServer {
    /// Starts a server with `behaviour` on a free port of 127.0.0.1.
    ///
    /// # Errors
    /// When certificates cannot be generated or no port opened.
    pub async fn start(behaviour: Behaviour) -> Result<Self, SimError> {
        tls::ensure_crypto_provider();
        let certs = tls::generate()?;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|source| SimError::Bind {
            addr: "127.0.0.1:0".into(),
            source,
        })?;
        let addr = listener.local_addr().map_err(|source| SimError::Bind {
            addr: "127.0.0.1:0".into(),
            source,
        })?;
        listener.set_nonblocking(true).map_err(|source| SimError::Bind {
            addr: addr.to_string(),
            source,
        })?;
        let shared = Arc::new(Shared {
            behaviour,
            reviews: Mutex::default(),
            admissions: AtomicU64::new(0),
        });
        let app = Router::new().route("/{*path}", post(review)).with_state(shared.clone());
        let config = axum_server::tls_rustls::RustlsConfig::from_config(certs.server_config.clone());
        let server = axum_server::from_tcp_rustls(listener, config).map_err(|source| SimError::Bind {
            addr: addr.to_string(),
            source,
        })?;
        let task = tokio::spawn(async move {
            let _ = server.serve(app.into_make_service()).await;
        });
        Ok(Self {
            addr,
            ca_pem: certs.ca_pem,
            shared,
            task,
        })
    }

    /// The URL of `path` on this server, for a webhook's `clientConfig.url`.
    #[must_use]
    pub fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }

    /// The base URL, for routing a `clientConfig.service` to this server.
    #[must_use]
    pub fn base_url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// The CA that signed the server's certificate, base64-encoded PEM (`clientConfig.caBundle`).
    #[must_use]
    pub fn ca_bundle(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.ca_pem)
    }

    /// Every `request` of the reviews received so far.
    #[must_use]
    pub fn reviews(&self) -> Vec<Value> {
        self.shared.reviews.lock().clone()
    }

    /// Stops the server.
    pub fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for WebhookServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The patch of the sidecar injector for one object.
fn injection(object: &Value, revision: u64) -> Vec<Value> {
    let status =
        json!({"initContainers": ["istio-init"], "containers": ["istio-proxy"], "revision": revision}).to_string();
    let mut ops = Vec::new();
    if object.pointer("/metadata/annotations").is_some_and(Value::is_object) {
        ops.push(json!({"op": "add", "path": "/metadata/annotations/sidecar.istio.io~1status", "value": status}));
    } else {
        ops.push(json!({"op": "add", "path": "/metadata/annotations", "value": {SIDECAR_STATUS: status}}));
    }
    let spec = if object.pointer("/spec/containers").is_some() {
        Some("/spec")
    } else if object.pointer("/spec/template/spec/containers").is_some() {
        Some("/spec/template/spec")
    } else {
        None
    };
    if let Some(spec) = spec {
        let init = json!({"name": "istio-init", "image": "docker.io/istio/proxyv2:1.22.0", "args": ["istio-iptables"]});
        let existing = object
            .pointer(&format!("{spec}/initContainers"))
            .and_then(Value::as_array);
        match existing {
            Some(list) if list.iter().any(|c| c["name"] == "istio-init") => {}
            Some(_) => ops.push(json!({"op": "add", "path": format!("{spec}/initContainers/-"), "value": init})),
            None => ops.push(json!({"op": "add", "path": format!("{spec}/initContainers"), "value": [init]})),
        }
    }
    ops
}

async fn review(State(shared): State<Arc<Shared>>, Json(body): Json<Value>) -> Json<Value> {
    let request = body.get("request").cloned().unwrap_or(Value::Null);
    shared.reviews.lock().push(request.clone());
    let revision = shared.admissions.fetch_add(1, Ordering::SeqCst) + 1;
    let uid = request.get("uid").cloned().unwrap_or(Value::Null);
    let response = match &shared.behaviour {
        Behaviour::Allow => json!({"uid": uid, "allowed": true}),
        Behaviour::Deny { code, message } => {
            json!({"uid": uid, "allowed": false, "status": {"code": code, "message": message}})
        }
        Behaviour::InjectSidecar => match request.get("object").filter(|o| o.is_object()) {
            Some(object) => {
                let patch = serde_json::to_vec(&injection(object, revision)).unwrap_or_default();
                json!({"uid": uid, "allowed": true, "patchType": "JSONPatch",
                    "patch": base64::engine::general_purpose::STANDARD.encode(patch)})
            }
            None => json!({"uid": uid, "allowed": true}),
        },
    };
    Json(json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_injector_patches_annotations_and_the_pod_template() {
        let deployment =
            json!({"metadata": {"name": "web"}, "spec": {"template": {"spec": {"containers": [{"name": "web"}]}}}});
        let mut patched = deployment.clone();
        let patch: json_patch::Patch = serde_json::from_value(Value::Array(injection(&deployment, 1))).unwrap();
        json_patch::patch(&mut patched, &patch).unwrap();
        assert!(
            patched["metadata"]["annotations"][SIDECAR_STATUS]
                .as_str()
                .unwrap()
                .contains("\"revision\":1")
        );
        assert_eq!(
            patched["spec"]["template"]["spec"]["initContainers"][0]["name"],
            "istio-init"
        );
        // A second admission changes the annotation but adds no second init container.
        let patch: json_patch::Patch = serde_json::from_value(Value::Array(injection(&patched, 2))).unwrap();
        json_patch::patch(&mut patched, &patch).unwrap();
        assert!(
            patched["metadata"]["annotations"][SIDECAR_STATUS]
                .as_str()
                .unwrap()
                .contains("\"revision\":2")
        );
        assert_eq!(
            patched["spec"]["template"]["spec"]["initContainers"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }
}
