//! The `scale` subresource: an `autoscaling/v1 Scale` view of any object whose type declares the
//! paths of its replicas and selector, read by `get` and written by `update` and `patch`.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::objects::{Part, prepare_update};
use super::path::Target;
use super::resources::ResourceType;
use super::status::ApiError;
use super::{App, Call, json as respond};

fn pointer(json_path: &str) -> String {
    json_path
        .trim_start_matches('.')
        .split('.')
        .fold(String::new(), |acc, key| format!("{acc}/{key}"))
}

/// The `autoscaling/v1 Scale` view of an object.
///
/// # Errors
/// 404 when the type has no scale subresource.
pub fn scale_of(rt: &ResourceType, obj: &Value) -> Result<Value, ApiError> {
    let paths = rt
        .scale
        .as_ref()
        .ok_or_else(|| ApiError::no_route(&format!("{}/scale", rt.qualified())))?;
    let meta = obj.get("metadata").cloned().unwrap_or_else(|| json!({}));
    let field = |key: &str| meta.get(key).cloned().unwrap_or(Value::Null);
    let mut status = json!({"replicas": obj.pointer(&pointer(&paths.status_replicas)).cloned().unwrap_or(json!(0))});
    if let Some(sel) = paths.label_selector.as_deref().and_then(|p| obj.pointer(&pointer(p))) {
        status["selector"] = sel.clone();
    }
    Ok(json!({
        "kind": "Scale", "apiVersion": "autoscaling/v1",
        "metadata": {"name": field("name"), "namespace": field("namespace"), "uid": field("uid"), "resourceVersion": field("resourceVersion"), "creationTimestamp": field("creationTimestamp")},
        "spec": {"replicas": obj.pointer(&pointer(&paths.spec_replicas)).cloned().unwrap_or(json!(0))},
        "status": status,
    }))
}

/// Writes the scale subresource: `change` turns the current Scale into the desired one.
pub(super) fn write(
    app: &App,
    call: &Call,
    target: &Target,
    change: impl FnOnce(&Value) -> Result<Value, ApiError>,
) -> Result<Response, ApiError> {
    let name = target.name.as_deref().unwrap_or_default();
    let mut store = app.store.lock();
    let old = store.get(&target.rt, target.namespace.as_deref().unwrap_or_default(), name)?;
    let desired = change(&scale_of(&target.rt, &old)?)?;
    let replicas = desired
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .ok_or_else(|| {
            ApiError::invalid(
                "autoscaling",
                "Scale",
                name,
                &[("spec.replicas".into(), "Required value".into())],
            )
        })?;
    if replicas < 0 {
        return Err(ApiError::invalid(
            "autoscaling",
            "Scale",
            name,
            &[(
                "spec.replicas".into(),
                format!("Invalid value: {replicas}: must be greater than or equal to 0"),
            )],
        ));
    }
    if let Some(rv) = desired.pointer("/metadata/resourceVersion").and_then(Value::as_str)
        && old.pointer("/metadata/resourceVersion").and_then(Value::as_str) != Some(rv)
    {
        return Err(ApiError::conflict(&target.rt.group, &target.rt.plural, name));
    }
    let paths = target.rt.scale.clone().ok_or_else(|| ApiError::no_route("scale"))?;
    let mut new = old.clone();
    let ptr = pointer(&paths.spec_replicas);
    let (parent, key) = ptr.rsplit_once('/').unwrap_or(("", ""));
    if let Some(map) = new.pointer_mut(parent).and_then(Value::as_object_mut) {
        map.insert(key.to_owned(), json!(replicas));
    }
    let prepared = prepare_update(&target.rt, &old, new, Part::Main)?;
    let stored = store.replace(&target.rt, prepared, call.dry_run())?;
    Ok(respond(StatusCode::OK, &scale_of(&target.rt, &stored)?))
}
