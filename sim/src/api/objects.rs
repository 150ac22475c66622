//! What the server does to an object on create and update, as pure functions: metadata the server
//! owns, the status subresource rule, generation bumps, and optimistic concurrency.

use serde_json::{Map, Value, json};

use super::resources::ResourceType;
use super::status::ApiError;

/// Which part of an object a write targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The object itself (status ignored when status is a subresource).
    Main,
    /// The `/status` subresource (only status changes).
    Status,
}

/// Whether the server maintains `metadata.generation` for this type.
fn tracks_generation(rt: &ResourceType) -> bool {
    rt.custom
        || matches!(rt.group.as_str(), "apps" | "batch" | "policy" | "apiextensions.k8s.io")
        || (rt.group.is_empty() && rt.plural == "pods")
}

fn meta_str<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.get("metadata").and_then(|m| m.get(key)).and_then(Value::as_str)
}

fn metadata_mut(obj: &mut Value) -> Result<&mut Map<String, Value>, ApiError> {
    let map = obj
        .as_object_mut()
        .ok_or_else(|| ApiError::bad_request("the request body is not a JSON object"))?;
    let meta = map.entry("metadata").or_insert_with(|| json!({}));
    if meta.is_null() {
        *meta = json!({});
    }
    meta.as_object_mut()
        .ok_or_else(|| ApiError::bad_request("metadata must be an object"))
}

/// Checks `apiVersion` and `kind` of a body against the URL's type, filling them in when absent.
fn check_type(rt: &ResourceType, obj: &mut Value) -> Result<(), ApiError> {
    let map = obj
        .as_object_mut()
        .ok_or_else(|| ApiError::bad_request("the request body is not a JSON object"))?;
    let api_version = rt.api_version();
    match map.get("apiVersion").and_then(Value::as_str) {
        Some(v) if v != api_version => {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({v}) does not match the expected API version ({api_version})"
            )));
        }
        _ => {
            map.insert("apiVersion".into(), json!(api_version));
        }
    }
    match map.get("kind").and_then(Value::as_str) {
        Some(k) if k != rt.kind => {
            return Err(ApiError::bad_request(format!(
                "the kind in the data ({k}) does not match the expected kind ({})",
                rt.kind
            )));
        }
        _ => {
            map.insert("kind".into(), json!(rt.kind));
        }
    }
    Ok(())
}

/// The strings of the array at `key` (an absent key, or items that are not strings, give none).
#[must_use]
pub fn strings(value: &Value, key: &str) -> Vec<String> {
    value
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

/// Whether `name` is valid for objects of `rt`: RBAC objects only need to be a path segment
/// (kube-apiserver's `ValidateRBACName`, so `system:discovery` is a name), others a DNS-1123
/// subdomain.
/// What is wrong with `name` for this kind, in kube-apiserver's words: RBAC objects take any path
/// segment, Namespaces an RFC 1123 label (and no dots), everything else an RFC 1123 subdomain.
fn name_problems(rt: &ResourceType, name: &str) -> Vec<String> {
    if rt.group == "rbac.authorization.k8s.io" {
        let ok = !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '%']);
        return if ok {
            Vec::new()
        } else {
            vec!["may not contain '/' or '%'".to_owned()]
        };
    }
    if rt.group.is_empty() && rt.plural == "namespaces" {
        if name.contains('.') {
            return vec!["must not contain dots".to_owned()];
        }
        return super::builtin::names::dns1123_label(name);
    }
    super::builtin::names::dns1123_subdomain(name)
}

/// Everything except metadata and status: a change here bumps the generation.
fn spec_part(obj: &Value) -> Value {
    let mut copy = obj.clone();
    if let Some(map) = copy.as_object_mut() {
        for key in ["metadata", "status", "apiVersion", "kind"] {
            map.remove(key);
        }
    }
    copy
}

/// Server-owned facts for a new object.
pub struct NewIdentity<'a> {
    /// Namespace from the URL.
    pub namespace: Option<&'a str>,
    /// Fresh uid.
    pub uid: String,
    /// Creation time, RFC 3339.
    pub now: &'a str,
    /// Random suffix for `generateName`.
    pub suffix: &'a str,
}

/// Prepares a body for creation: type, name, namespace, uid, timestamps, generation, status.
///
/// # Errors
/// 400 for a wrong type or namespace, 422 for a missing or invalid name.
pub fn prepare_create(rt: &ResourceType, mut obj: Value, id: &NewIdentity<'_>) -> Result<Value, ApiError> {
    check_type(rt, &mut obj)?;
    let group_kind = (rt.group.clone(), rt.kind.clone());
    let meta = metadata_mut(&mut obj)?;
    let name = match (
        meta.get("name").and_then(Value::as_str),
        meta.get("generateName").and_then(Value::as_str),
    ) {
        (Some(name), _) if !name.is_empty() => name.to_owned(),
        (_, Some(prefix)) if !prefix.is_empty() => format!("{prefix}{}", id.suffix),
        _ => {
            let cause = super::status::Cause::new(
                "FieldValueRequired",
                "metadata.name".into(),
                "Required value: name or generateName is required",
            );
            return Err(ApiError::invalid_causes(&group_kind.0, &group_kind.1, "", &[cause]));
        }
    };
    let problems = name_problems(rt, &name);
    if !problems.is_empty() {
        let causes: Vec<(String, String)> = problems
            .iter()
            .map(|p| ("metadata.name".to_owned(), format!("Invalid value: {name:?}: {p}")))
            .collect();
        return Err(ApiError::invalid(&group_kind.0, &group_kind.1, &name, &causes));
    }
    meta.insert("name".into(), json!(name));
    match (
        rt.namespaced,
        id.namespace,
        meta.get("namespace").and_then(Value::as_str),
    ) {
        (true, Some(path_ns), Some(body_ns)) if path_ns != body_ns => {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        (true, Some(path_ns), _) => {
            meta.insert("namespace".into(), json!(path_ns));
        }
        (true, None, _) => {
            return Err(ApiError::bad_request(
                "a namespaced object must be created in a namespace",
            ));
        }
        (false, _, _) => {
            meta.remove("namespace");
        }
    }
    meta.insert("uid".into(), json!(id.uid));
    meta.insert("creationTimestamp".into(), json!(id.now));
    for owned in [
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "resourceVersion",
        "selfLink",
    ] {
        meta.remove(owned);
    }
    if tracks_generation(rt) {
        meta.insert("generation".into(), json!(1));
    } else {
        meta.remove("generation");
    }
    if rt.status_subresource
        && let Some(map) = obj.as_object_mut()
    {
        map.remove("status");
    }
    Ok(obj)
}

/// Prepares an update of `old` with the body `new`.
///
/// # Errors
/// 400 when the body names another object, 409 on a stale resourceVersion, 422 when a custom
/// resource is updated without one.
pub fn prepare_update(rt: &ResourceType, old: &Value, mut new: Value, part: Part) -> Result<Value, ApiError> {
    check_type(rt, &mut new)?;
    let name = meta_str(old, "name").unwrap_or_default().to_owned();
    match meta_str(&new, "name") {
        Some(n) if n != name => {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({n}) does not match the name on the URL ({name})"
            )));
        }
        _ => {}
    }
    if rt.namespaced && meta_str(&new, "namespace").is_some_and(|ns| Some(ns) != meta_str(old, "namespace")) {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    match meta_str(&new, "resourceVersion") {
        Some(rv) if Some(rv) != meta_str(old, "resourceVersion") => {
            return Err(ApiError::conflict(&rt.group, &rt.plural, &name));
        }
        None if rt.custom => {
            return Err(ApiError::invalid(
                &rt.group,
                &rt.kind,
                &name,
                &[(
                    "metadata.resourceVersion".into(),
                    "Invalid value: 0x0: must be specified for an update".into(),
                )],
            ));
        }
        _ => {}
    }
    let mut result = match part {
        Part::Status => {
            let mut result = old.clone();
            if let Some(map) = result.as_object_mut() {
                match new.get("status") {
                    Some(status) => map.insert("status".into(), status.clone()),
                    None => map.remove("status"),
                };
            }
            return Ok(result);
        }
        Part::Main => new,
    };
    let old_meta = old.get("metadata").cloned().unwrap_or_else(|| json!({}));
    let meta = metadata_mut(&mut result)?;
    for owned in [
        "name",
        "namespace",
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "generation",
    ] {
        match old_meta.get(owned) {
            Some(v) => meta.insert(owned.into(), v.clone()),
            None => meta.remove(owned),
        };
    }
    meta.remove("resourceVersion");
    if rt.status_subresource
        && let Some(map) = result.as_object_mut()
    {
        match old.get("status") {
            Some(status) => map.insert("status".into(), status.clone()),
            None => map.remove("status"),
        };
    }
    if tracks_generation(rt) && spec_part(old) != spec_part(&result) {
        let generation = old_meta.get("generation").and_then(Value::as_i64).unwrap_or(0) + 1;
        if let Some(meta) = result.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("generation".into(), json!(generation));
        }
    }
    Ok(result)
}

/// Whether two stored versions differ in anything but their resourceVersion.
#[must_use]
pub fn changed(old: &Value, new: &Value) -> bool {
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("resourceVersion");
        }
        v
    };
    strip(old) != strip(new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::resources::builtins;

    fn rt(plural: &str) -> ResourceType {
        builtins().into_iter().find(|t| t.plural == plural).unwrap()
    }

    fn id<'a>(ns: Option<&'a str>) -> NewIdentity<'a> {
        NewIdentity {
            namespace: ns,
            uid: "u1".into(),
            now: "2026-01-01T00:00:00Z",
            suffix: "abcde",
        }
    }

    #[test]
    fn create_fills_server_fields_and_drops_status() {
        let body = json!({"metadata": {"generateName": "web-"}, "spec": {"replicas": 2}, "status": {"replicas": 9}});
        let obj = prepare_create(&rt("deployments"), body, &id(Some("default"))).unwrap();
        assert_eq!(obj["apiVersion"], "apps/v1");
        assert_eq!(obj["kind"], "Deployment");
        assert_eq!(obj["metadata"]["name"], "web-abcde");
        assert_eq!(obj["metadata"]["namespace"], "default");
        assert_eq!(obj["metadata"]["generation"], 1);
        assert!(obj.get("status").is_none());
    }

    #[test]
    fn create_rejects_bad_names_and_namespaces() {
        let err = prepare_create(
            &rt("configmaps"),
            json!({"metadata": {"name": "Bad_Name"}}),
            &id(Some("default")),
        )
        .unwrap_err();
        assert_eq!((err.code, err.reason), (422, "Invalid"));
        let err = prepare_create(
            &rt("configmaps"),
            json!({"metadata": {"name": "x", "namespace": "other"}}),
            &id(Some("default")),
        )
        .unwrap_err();
        assert_eq!(err.code, 400);
        let err = prepare_create(
            &rt("configmaps"),
            json!({"kind": "Secret", "metadata": {"name": "x"}}),
            &id(Some("default")),
        )
        .unwrap_err();
        assert_eq!(err.code, 400);
    }

    #[test]
    fn generation_bumps_only_on_spec_changes_and_status_is_a_subresource() {
        let deploy = rt("deployments");
        let old = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default", "generation": 3, "resourceVersion": "7", "uid": "u"}, "spec": {"replicas": 2}, "status": {"replicas": 2}});
        let mut labels_only = old.clone();
        labels_only["metadata"]["labels"] = json!({"a": "b"});
        labels_only["status"] = json!({"replicas": 100});
        let same_gen = prepare_update(&deploy, &old, labels_only, Part::Main).unwrap();
        assert_eq!(same_gen["metadata"]["generation"], 3);
        assert_eq!(
            same_gen["status"]["replicas"], 2,
            "status is ignored on the main resource"
        );
        let mut scaled = old.clone();
        scaled["spec"]["replicas"] = json!(5);
        assert_eq!(
            prepare_update(&deploy, &old, scaled, Part::Main).unwrap()["metadata"]["generation"],
            4
        );
        let mut status = old.clone();
        status["status"] = json!({"replicas": 5});
        status["spec"] = json!({"replicas": 50});
        let written = prepare_update(&deploy, &old, status, Part::Status).unwrap();
        assert_eq!(
            (
                written["status"]["replicas"].clone(),
                written["spec"]["replicas"].clone()
            ),
            (json!(5), json!(2))
        );
    }

    #[test]
    fn stale_resource_version_is_a_conflict() {
        let old = json!({"metadata": {"name": "c", "namespace": "default", "resourceVersion": "7"}, "data": {}});
        let stale = json!({"metadata": {"name": "c", "resourceVersion": "6"}, "data": {"a": "b"}});
        let err = prepare_update(&rt("configmaps"), &old, stale, Part::Main).unwrap_err();
        assert_eq!((err.code, err.reason), (409, "Conflict"));
        assert_eq!(
            err.message,
            "Operation cannot be fulfilled on configmaps \"c\": the object has been modified; please apply your changes to the latest version and try again"
        );
    }
}
