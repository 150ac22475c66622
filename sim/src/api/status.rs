//! API errors and their `meta.k8s.io/v1 Status` bodies, with the reasons and codes of the real server.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// `resource.group`, or `resource` for the core group, as kube-apiserver names resources.
fn qualified(group: &str, resource: &str) -> String {
    if group.is_empty() {
        resource.to_owned()
    } else {
        format!("{resource}.{group}")
    }
}

/// An error returned to a client.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{reason} ({code}): {message}")]
pub struct ApiError {
    /// HTTP status code.
    pub code: u16,
    /// Machine-readable reason, e.g. `NotFound`.
    pub reason: &'static str,
    /// Human-readable message, worded as kube-apiserver words it.
    pub message: String,
    /// `details` of the Status (name, group, kind, causes).
    pub details: Option<Value>,
}

/// One cause of a 422: the field, its `metav1.CauseType` and the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cause {
    /// `FieldValueRequired`, `FieldValueInvalid`, `FieldValueTooLong`, ...
    pub reason: &'static str,
    /// The field path, e.g. `data[tls.key]`.
    pub field: String,
    /// What is wrong (`Required value`, `Invalid value: "x": ...`).
    pub message: String,
}

impl Cause {
    /// A cause.
    #[must_use]
    pub fn new(reason: &'static str, field: String, message: impl Into<String>) -> Self {
        Self {
            reason,
            field,
            message: message.into(),
        }
    }
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            reason,
            message: message.into(),
            details: None,
        }
    }

    fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    /// 404 for an object: `pods "x" not found`.
    #[must_use]
    pub fn not_found(group: &str, resource: &str, name: &str) -> Self {
        let qualified = qualified(group, resource);
        Self::new(404, "NotFound", format!("{qualified} \"{name}\" not found"))
            .with_details(json!({"name": name, "group": group, "kind": resource}))
    }

    /// 401 for a request without valid credentials.
    #[must_use]
    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized")
    }

    /// 403 for a request the authorizer refused: `pods "x" is forbidden: <reason>`, or
    /// `forbidden: <reason>` for a path that is not a resource.
    #[must_use]
    pub fn forbidden(group: &str, resource: &str, name: &str, reason: &str) -> Self {
        let message = match (resource.is_empty(), name.is_empty()) {
            (true, _) => format!("forbidden: {reason}"),
            (false, true) => format!("{} is forbidden: {reason}", qualified(group, resource)),
            (false, false) => format!("{} \"{name}\" is forbidden: {reason}", qualified(group, resource)),
        };
        let details = if resource.is_empty() {
            json!({})
        } else {
            json!({"name": name, "group": group, "kind": resource})
        };
        Self::new(403, "Forbidden", message).with_details(details)
    }

    /// 404 for a path the server does not serve.
    #[must_use]
    pub fn no_route(path: &str) -> Self {
        Self::new(
            404,
            "NotFound",
            format!("the server could not find the requested resource ({path})"),
        )
    }

    /// 409 when creating an object that exists.
    #[must_use]
    pub fn already_exists(group: &str, resource: &str, name: &str) -> Self {
        let qualified = qualified(group, resource);
        Self::new(409, "AlreadyExists", format!("{qualified} \"{name}\" already exists"))
            .with_details(json!({"name": name, "group": group, "kind": resource}))
    }

    /// 409 on a stale resourceVersion.
    #[must_use]
    pub fn conflict(group: &str, resource: &str, name: &str) -> Self {
        let qualified = qualified(group, resource);
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {qualified} \"{name}\": the object has been modified; please apply your changes to the latest version and try again"
            ),
        )
        .with_details(json!({"name": name, "group": group, "kind": resource}))
    }

    /// 422 with one cause per invalid field.
    #[must_use]
    pub fn invalid(group: &str, kind: &str, name: &str, causes: &[(String, String)]) -> Self {
        let causes: Vec<Cause> = causes
            .iter()
            .map(|(field, message)| Cause::new("FieldValueInvalid", field.clone(), message.clone()))
            .collect();
        Self::invalid_causes(group, kind, name, &causes)
    }

    /// 422 Invalid with typed causes, worded as kube-apiserver's `NewInvalid`:
    /// `Kind.group "name" is invalid: field: message` (several in brackets, in order).
    #[must_use]
    pub fn invalid_causes(group: &str, kind: &str, name: &str, causes: &[Cause]) -> Self {
        // `field.ErrorList.ToAggregate`: the message names each distinct error once; the causes
        // keep every one.
        let mut list: Vec<String> = Vec::new();
        for line in causes.iter().map(|c| format!("{}: {}", c.field, c.message)) {
            if !list.contains(&line) {
                list.push(line);
            }
        }
        let qualified = if group.is_empty() {
            kind.to_owned()
        } else {
            format!("{kind}.{group}")
        };
        let message = match list.as_slice() {
            [one] => format!("{qualified} \"{name}\" is invalid: {one}"),
            many => format!("{qualified} \"{name}\" is invalid: [{}]", many.join(", ")),
        };
        let causes: Vec<Value> = causes
            .iter()
            .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
            .collect();
        Self::new(422, "Invalid", message)
            .with_details(json!({"name": name, "group": group, "kind": kind, "causes": causes}))
    }

    /// A webhook's refusal: its status code (400 when it gives none) and message, as
    /// kube-apiserver's `webhookerrors.ToStatusErr` words it.
    #[must_use]
    pub fn denied_by_webhook(webhook: &str, code: u16, message: &str) -> Self {
        let code = if code == 0 { 400 } else { code };
        let reason = match code {
            400 => "BadRequest",
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "NotFound",
            409 => "Conflict",
            422 => "Invalid",
            429 => "TooManyRequests",
            _ => "",
        };
        let message = if message.is_empty() {
            format!("admission webhook \"{webhook}\" denied the request without explanation")
        } else {
            format!("admission webhook \"{webhook}\" denied the request: {message}")
        };
        Self::new(code, reason, message)
    }

    /// 400 for a malformed request.
    #[must_use]
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    /// 405 for a verb the resource does not support.
    #[must_use]
    pub fn method_not_allowed(message: impl Into<String>) -> Self {
        Self::new(405, "MethodNotAllowed", message)
    }

    /// 415 for a patch content type the server does not accept.
    #[must_use]
    pub fn unsupported_media_type(content_type: &str) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got {content_type:?})"
            ),
        )
    }

    /// 413 for an oversized body.
    #[must_use]
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            413,
            "RequestEntityTooLarge",
            format!("the request body exceeds the limit of {limit} bytes"),
        )
    }

    /// 410 when a watch asks for a resourceVersion that was compacted.
    #[must_use]
    pub fn gone(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message)
    }

    /// 500 with no reason: what structured-merge-diff's typed conversion of an apply
    /// configuration answers (`failed to create typed patch object ...`).
    #[must_use]
    pub fn typed_patch(message: impl Into<String>) -> Self {
        Self::new(500, "", message)
    }

    /// 422 for request options (`CreateOptions`, `PatchOptions`, ...), as kube-apiserver's
    /// `ValidateCreateOptions` words them: `Kind.meta.k8s.io "" is invalid: ...`.
    #[must_use]
    pub fn invalid_options(kind: &str, causes: &[Cause]) -> Self {
        Self::invalid_causes("meta.k8s.io", kind, "", causes)
    }

    /// 500 for a bug in the simulator.
    #[must_use]
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "InternalError", message)
    }

    /// The Status object for this error.
    #[must_use]
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some(details) = &self.details {
            status["details"] = details.clone();
        }
        status
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (code, axum::Json(self.to_status())).into_response()
    }
}

/// The success Status returned by some deletes.
#[must_use]
pub fn success_status(details: Value) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details})
}
