//! The two auth APIs clients call: `SelfSubjectAccessReview` (`kubectl auth can-i`) and
//! `TokenRequest` (`serviceaccounts/NAME/token`, `kubectl create token`).

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::super::path::Target;
use super::super::status::ApiError;
use super::super::store::{now, rfc3339};
use super::super::{App, Call, json as respond};
use super::attributes::Attributes;
use super::rbac;
use super::tokens::IssuedFor;

fn text(value: &Value, key: &str) -> Option<String> {
    value
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The attributes a review asks about.
fn asked(spec: &Value) -> Result<Attributes, ApiError> {
    if let Some(r) = spec.get("resourceAttributes") {
        return Ok(Attributes::Resource {
            verb: text(r, "verb").unwrap_or_default(),
            group: text(r, "group").unwrap_or_default(),
            resource: text(r, "resource").unwrap_or_default(),
            subresource: text(r, "subresource"),
            namespace: text(r, "namespace"),
            name: text(r, "name"),
        });
    }
    if let Some(n) = spec.get("nonResourceAttributes") {
        return Ok(Attributes::Path {
            verb: text(n, "verb").unwrap_or_default(),
            path: text(n, "path").unwrap_or_default(),
        });
    }
    Err(ApiError::invalid(
        "authorization.k8s.io",
        "SelfSubjectAccessReview",
        "",
        &[(
            "spec.resourceAttributes".into(),
            "Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified".into(),
        )],
    ))
}

/// `POST selfsubjectaccessreviews`: whether the requester may do what the review describes.
///
/// # Errors
/// 400/422 for a malformed review.
pub(crate) fn self_subject_access_review(app: &App, call: &Call) -> Result<Response, ApiError> {
    let mut review = call.json_body()?;
    let attributes = asked(review.get("spec").unwrap_or(&Value::Null))?;
    let allowed = !app.auth.enabled || rbac::allows(&app.store.lock(), &call.user, &attributes);
    review["status"] = if allowed {
        json!({"allowed": true, "reason": "allowed by RBAC"})
    } else {
        json!({"allowed": false})
    };
    review["metadata"] = json!({"creationTimestamp": null});
    Ok(respond(StatusCode::CREATED, &review))
}

/// `POST serviceaccounts/NAME/token`: a token that authenticates as the ServiceAccount.
///
/// # Errors
/// 404 when the ServiceAccount does not exist.
pub(crate) fn token_request(app: &App, call: &Call, target: &Target) -> Result<Response, ApiError> {
    let namespace = target.namespace.clone().unwrap_or_default();
    let name = target.name.clone().unwrap_or_default();
    let account = app.store.lock().get(&target.rt, &namespace, &name)?;
    let body = if call.body.is_empty() {
        json!({})
    } else {
        call.json_body()?
    };
    let seconds = body
        .pointer("/spec/expirationSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(3600);
    let token = app.auth.tokens.issue(IssuedFor {
        namespace: namespace.clone(),
        name: name.clone(),
        uid: account
            .pointer("/metadata/uid")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
    });
    let expires = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(seconds);
    let answer = json!({
        "kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"name": name, "namespace": namespace, "creationTimestamp": now()},
        "spec": {"audiences": body.pointer("/spec/audiences").cloned().unwrap_or(json!([])), "expirationSeconds": seconds, "boundObjectRef": null},
        "status": {"token": token, "expirationTimestamp": rfc3339(expires)},
    });
    Ok(respond(StatusCode::CREATED, &answer))
}
