//! The API server: Kubernetes' REST protocol over HTTP/1.1 and JSON, backed by an in-memory store.

pub(crate) mod admission;
pub mod auth;
pub(crate) mod builtin;
pub mod crd;
pub mod defaults;
pub mod discovery;
pub mod managed;
pub mod objects;
pub mod openapi;
pub mod openapi_v2;
pub mod patch;
pub mod path;
mod protobuf;
mod read;
pub mod registry;
pub mod resources;
mod scale;
pub mod schema;
pub mod selectors;
pub mod status;
pub mod store;
pub mod table;
mod watch;
mod write;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use serde_json::Value;

use self::path::{Route, Target};
use self::status::ApiError;
use self::store::Store;

/// Largest request body accepted (the real API server's limit is 3 MiB).
pub const MAX_BODY: usize = 3 * 1024 * 1024;

/// Shared state of a running server.
#[derive(Debug)]
pub struct App {
    /// The cluster state.
    pub store: Mutex<Store>,
    /// `host:port` the server listens on, reported in discovery.
    pub address: String,
    /// Requests served so far (for benchmarks).
    pub requests: std::sync::atomic::AtomicU64,
    /// Authentication and authorization (off by default).
    pub auth: auth::Auth,
    /// Base URLs of the Services webhooks name (`clientConfig.service`), by (namespace, name).
    pub services: Mutex<HashMap<(String, String), String>>,
}

impl App {
    /// A server with an empty cluster, answering at `address`; with `auth.enabled`, the bootstrap
    /// RBAC objects are created.
    #[must_use]
    pub fn new(address: String, auth: auth::Auth) -> Self {
        let mut store = Store::new();
        if auth.enabled {
            for (plural, object) in auth::bootstrap_objects() {
                let rt = store.registry.find("rbac.authorization.k8s.io", "v1", plural).cloned();
                if let Some(rt) = rt
                    && let Ok(prepared) = objects::prepare_create(
                        &rt,
                        object,
                        &objects::NewIdentity {
                            namespace: None,
                            uid: uuid::Uuid::new_v4().to_string(),
                            now: &store::now(),
                            suffix: "",
                        },
                    )
                {
                    let _ = store.create(&rt, prepared, false);
                }
            }
        }
        Self {
            store: Mutex::new(store),
            address,
            requests: std::sync::atomic::AtomicU64::new(0),
            auth,
            services: Mutex::default(),
        }
    }
}

/// The router serving the whole API.
pub fn router(app: Arc<App>) -> Router {
    Router::new().fallback(handle).with_state(app)
}

/// The parts of a request the handlers use.
pub(crate) struct Call {
    pub method: Method,
    pub headers: HeaderMap,
    pub query: HashMap<String, String>,
    pub body: Vec<u8>,
    /// Who makes the request.
    pub user: auth::UserInfo,
}

impl Call {
    pub fn param(&self, key: &str) -> Option<&str> {
        self.query.get(key).map(String::as_str)
    }

    pub fn header(&self, name: header::HeaderName) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    pub fn dry_run(&self) -> bool {
        self.param("dryRun") == Some("All")
    }

    /// The label and field selectors of the query string.
    pub fn selectors(&self) -> Result<(selectors::LabelSelector, selectors::FieldSelector), ApiError> {
        Ok((
            selectors::LabelSelector::parse(self.param("labelSelector").unwrap_or_default())?,
            selectors::FieldSelector::parse(self.param("fieldSelector").unwrap_or_default())?,
        ))
    }

    /// The body as JSON (or YAML, which some clients send).
    pub fn json_body(&self) -> Result<Value, ApiError> {
        if self.body.is_empty() {
            return Err(ApiError::bad_request("the request body is empty"));
        }
        if self.header(header::CONTENT_TYPE).contains("protobuf") {
            return protobuf::decode(&self.body);
        }
        serde_json::from_slice(&self.body).or_else(|json_err| {
            if self.header(header::CONTENT_TYPE).contains("yaml") {
                crds::yaml::from_slice(&self.body)
                    .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))
            } else {
                Err(ApiError::bad_request(format!(
                    "error decoding the request body as JSON: {json_err}"
                )))
            }
        })
    }
}

pub(crate) fn json(code: StatusCode, value: &Value) -> Response {
    (code, [(header::CONTENT_TYPE, "application/json")], value.to_string()).into_response()
}

async fn handle(
    State(app): State<Arc<App>>,
    Query(query): Query<HashMap<String, String>>,
    request: Request,
) -> Response {
    app.requests.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(bytes) => bytes.to_vec(),
        Err(_) => return ApiError::too_large(MAX_BODY).into_response(),
    };
    let mut call = Call {
        method: parts.method,
        headers: parts.headers,
        query,
        body,
        user: auth::UserInfo::admin(),
    };
    let route = path::parse(&app.store.lock().registry, parts.uri.path());
    if let Err(error) = admit_caller(&app, &mut call, &route, parts.uri.path()) {
        return error.into_response();
    }
    let result = match route {
        Route::Resource(target) => resource(&app, &call, *target).await,
        Route::OpenApiV2 if call.method == Method::GET => Ok(openapi_v2::respond(&call.headers)),
        other if call.method == Method::GET => discovery_doc(&app, other, parts.uri.path()),
        _ => Err(ApiError::method_not_allowed(format!(
            "{} is not supported on {}",
            call.method,
            parts.uri.path()
        ))),
    };
    result.unwrap_or_else(IntoResponse::into_response)
}

/// Authenticates the caller (health checks need no credentials) and asks the authorizer.
fn admit_caller(app: &App, call: &mut Call, route: &Route, path: &str) -> Result<(), ApiError> {
    if !app.auth.enabled || matches!(route, Route::Health) {
        return Ok(());
    }
    let store = app.store.lock();
    call.user = app.auth.authenticate(&call.headers, &store)?;
    let watch = matches!(call.param("watch"), Some("true" | "1"));
    let attributes = auth::Attributes::of_route(&call.method, route, path, watch);
    app.auth.authorize(&store, &call.user, &attributes)
}

fn discovery_doc(app: &App, route: Route, path: &str) -> Result<Response, ApiError> {
    let store = app.store.lock();
    let doc = match route {
        Route::Version => Some(discovery::version()),
        Route::OpenApiV3 => Some(openapi::index(&store.registry, store.resource_version())),
        Route::OpenApiV3GroupVersion(group, version) => openapi::group_version(&store.registry, &group, &version),
        Route::Health => return Ok((StatusCode::OK, "ok").into_response()),
        Route::CoreVersions => Some(discovery::core_versions(&app.address)),
        Route::Groups => Some(discovery::group_list(&store.registry)),
        Route::Group(group) => discovery::group(&store.registry, &group),
        Route::GroupVersion(group, version) => discovery::resource_list(&store.registry, &group, &version),
        Route::Resource(_) | Route::OpenApiV2 | Route::Unknown => None,
    };
    doc.map(|d| json(StatusCode::OK, &d))
        .ok_or_else(|| ApiError::no_route(path))
}

async fn resource(app: &Arc<App>, call: &Call, target: Target) -> Result<Response, ApiError> {
    let is_watch = matches!(call.param("watch"), Some("true" | "1"));
    if target.rt.group == "authorization.k8s.io" && target.rt.plural == "selfsubjectaccessreviews" {
        return match call.method {
            Method::POST => auth::reviews::self_subject_access_review(app, call),
            _ => Err(ApiError::method_not_allowed(format!(
                "{} is not supported on selfsubjectaccessreviews",
                call.method
            ))),
        };
    }
    match (&call.method, target.name.is_some()) {
        (&Method::GET, false) if is_watch => watch::start(app.clone(), call, target),
        (&Method::GET, false) => read::list(app, call, &target),
        (&Method::GET, true) => read::get(app, call, &target),
        (&Method::POST, false) => write::create(app, call, &target).await,
        (&Method::POST, true) => write::post_subresource(app, call, &target),
        (&Method::PUT, true) => write::update(app, call, &target).await,
        (&Method::PATCH, true) => write::patch(app, call, &target).await,
        (&Method::DELETE, true) => write::delete(app, call, &target).await,
        (&Method::DELETE, false) => write::delete_collection(app, call, &target),
        (method, _) => Err(ApiError::method_not_allowed(format!(
            "{method} is not supported on {}",
            target.rt.qualified()
        ))),
    }
}
