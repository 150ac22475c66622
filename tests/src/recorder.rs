//! An HTTP endpoint that records what arrives, for tests that must show a provider sent what it
//! should (credentials, method, headers, body): an OAuth2 token endpoint (client credentials), a
//! Prometheus query API (`/api/v1/query`, `/api/v1/query_range`) and a JSON web endpoint
//! (`/web/...`). Each answers only a request carrying the expected `Authorization`, else 401.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::State;
use axum::http::{Request, Response, StatusCode};

/// One request as it arrived.
#[derive(Clone, Debug, Default)]
pub struct Recorded {
    /// Method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Query parameters (decoded).
    pub query: BTreeMap<String, String>,
    /// Headers, names in lower case.
    pub headers: BTreeMap<String, String>,
    /// Body as text.
    pub body: String,
}

struct Shared {
    requests: Mutex<Vec<Recorded>>,
    authorization: String,
    token: String,
}

/// The running endpoint; stops on drop.
pub struct Recorder {
    shared: Arc<Shared>,
    served: crate::serve::Served,
}

/// The access token the OAuth2 endpoint hands out.
pub const ISSUED_TOKEN: &str = "issued-token-7f3a";

impl Recorder {
    /// Serves on 127.0.0.1; the Prometheus and web endpoints demand `authorization` (a whole
    /// header value, e.g. `Basic dTpw` or `Bearer issued-token-7f3a`).
    pub fn start(authorization: &str) -> Self {
        let shared = Arc::new(Shared {
            requests: Mutex::new(Vec::new()),
            authorization: authorization.to_owned(),
            token: ISSUED_TOKEN.to_owned(),
        });
        let app = axum::Router::new().fallback(serve).with_state(shared.clone());
        Self {
            served: crate::serve::Served::start(app),
            shared,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.served.port)
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }
}

fn json(status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(value.to_string()))
        .unwrap()
}

fn form(text: &str) -> BTreeMap<String, String> {
    form_urlencoded::parse(text.as_bytes()).into_owned().collect()
}

async fn serve(State(shared): State<Arc<Shared>>, request: Request<Body>) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap_or_default();
    let recorded = Recorded {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: form(parts.uri.query().unwrap_or_default()),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned()))
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    shared.requests.lock().unwrap().push(recorded.clone());
    if recorded.path == "/oauth/token" {
        let fields = form(&recorded.body);
        if fields.get("grant_type").map(String::as_str) != Some("client_credentials") {
            return json(
                StatusCode::BAD_REQUEST,
                &serde_json::json!({"error": "unsupported_grant_type"}),
            );
        }
        return json(
            StatusCode::OK,
            &serde_json::json!({"access_token": shared.token, "token_type": "Bearer", "expires_in": 3600}),
        );
    }
    if recorded.headers.get("authorization") != Some(&shared.authorization) {
        return json(
            StatusCode::UNAUTHORIZED,
            &serde_json::json!({"status": "error", "errorType": "unauthorized", "error": "who are you?"}),
        );
    }
    match recorded.path.as_str() {
        "/api/v1/query" => json(
            StatusCode::OK,
            &serde_json::json!({"status": "success", "data": {"resultType": "vector",
                "result": [{"metric": {}, "value": [1_700_000_000, "0.99"]}]}}),
        ),
        "/api/v1/query_range" => json(
            StatusCode::OK,
            &serde_json::json!({"status": "success", "data": {"resultType": "matrix",
                "result": [{"metric": {}, "values": [[1_700_000_000, "0.98"], [1_700_000_060, "0.99"]]}]}}),
        ),
        _ => json(StatusCode::OK, &serde_json::json!({"ok": true, "rate": 0.99})),
    }
}
