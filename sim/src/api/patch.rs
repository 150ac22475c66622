//! The patch formats: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and Kubernetes'
//! strategic merge patch (lists of the built-in kinds merged by their merge keys).

use serde_json::{Map, Value};

use super::status::ApiError;

/// A patch format, from the request's Content-Type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchKind {
    /// `application/merge-patch+json`.
    Merge,
    /// `application/json-patch+json`.
    Json,
    /// `application/strategic-merge-patch+json`.
    Strategic,
    /// `application/apply-patch+yaml` (server-side apply).
    Apply,
}

impl PatchKind {
    /// The kind for a Content-Type header.
    ///
    /// # Errors
    /// 415 for any other content type.
    pub fn from_content_type(content_type: &str) -> Result<Self, ApiError> {
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        match essence {
            "application/merge-patch+json" => Ok(Self::Merge),
            "application/json-patch+json" => Ok(Self::Json),
            "application/strategic-merge-patch+json" => Ok(Self::Strategic),
            "application/apply-patch+yaml" | "application/apply-patch+cbor" => Ok(Self::Apply),
            other => Err(ApiError::unsupported_media_type(other)),
        }
    }
}

/// Applies a merge, JSON or strategic patch to a document.
///
/// # Errors
/// 400 when the patch is malformed, 422 when a JSON patch operation fails (as kube-apiserver).
pub fn apply(kind: PatchKind, target: &Value, body: &[u8]) -> Result<Value, ApiError> {
    let patch: Value =
        serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
    let mut doc = target.clone();
    match kind {
        PatchKind::Merge => json_patch::merge(&mut doc, &patch),
        PatchKind::Json => {
            let ops: json_patch::Patch = serde_json::from_value(patch)
                .map_err(|e| ApiError::bad_request(format!("error decoding JSON patch: {e}")))?;
            json_patch::patch(&mut doc, &ops).map_err(|e| {
                let mut err = ApiError::internal(format!(
                    "the server rejected our request due to an error in our request: {e}"
                ));
                err.code = 422;
                err.reason = "Invalid";
                err
            })?;
        }
        PatchKind::Strategic => {
            if !patch.is_object() {
                return Err(ApiError::bad_request("a strategic merge patch must be a JSON object"));
            }
            strategic(&mut doc, &patch, "");
        }
        PatchKind::Apply => return Err(ApiError::unsupported_media_type("application/apply-patch+yaml")),
    }
    Ok(doc)
}

/// The merge key of a list field of the built-in kinds, by field name and the path above it.
fn merge_key(field: &str, parent: &str) -> Option<&'static str> {
    Some(match field {
        "containers" | "initContainers" | "ephemeralContainers" | "env" | "volumes" | "imagePullSecrets" => "name",
        "volumeMounts" => "mountPath",
        "volumeDevices" => "devicePath",
        "ports" if parent.ends_with("containers[]") || parent.ends_with("Containers[]") => "containerPort",
        "ports" => "port",
        "conditions" => "type",
        "ownerReferences" => "uid",
        "hostAliases" => "ip",
        "topologySpreadConstraints" => "topologyKey",
        _ => return None,
    })
}

/// Lists of strings that strategic merge patch merges as sets.
fn is_merged_set(field: &str) -> bool {
    field == "finalizers"
}

fn strategic(target: &mut Value, patch: &Value, path: &str) {
    let Some(patch_map) = patch.as_object() else {
        *target = patch.clone();
        return;
    };
    match patch_map.get("$patch").and_then(Value::as_str) {
        Some("replace") => {
            let mut replaced = patch_map.clone();
            replaced.remove("$patch");
            *target = Value::Object(replaced);
            return;
        }
        Some("delete") => {
            *target = Value::Null;
            return;
        }
        _ => {}
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Some(target_map) = target.as_object_mut() else {
        return;
    };
    for (key, value) in patch_map {
        if key.starts_with('$') {
            continue;
        }
        if value.is_null() {
            target_map.remove(key);
            continue;
        }
        let child_path = format!("{path}.{key}");
        let slot = target_map.entry(key.clone()).or_insert(Value::Null);
        match (value, merge_key(key, path)) {
            (Value::Array(items), Some(merge_key)) => merge_list(slot, items, merge_key, &child_path),
            (Value::Array(items), None) if is_merged_set(key) => {
                let mut set = slot.as_array().cloned().unwrap_or_default();
                for item in items {
                    if !set.contains(item) {
                        set.push(item.clone());
                    }
                }
                *slot = Value::Array(set);
            }
            (Value::Object(_), _) => strategic(slot, value, &child_path),
            _ => *slot = value.clone(),
        }
    }
}

fn merge_list(slot: &mut Value, items: &[Value], key: &str, path: &str) {
    let mut list = slot.as_array().cloned().unwrap_or_default();
    let item_path = format!("{path}[]");
    for item in items {
        let id = item.get(key);
        let position = id.and_then(|id| list.iter().position(|existing| existing.get(key) == Some(id)));
        let delete = item.get("$patch").and_then(Value::as_str) == Some("delete");
        match (position, delete) {
            (Some(i), true) => {
                list.remove(i);
            }
            (None, true) => {}
            (Some(i), false) => strategic(&mut list[i], item, &item_path),
            (None, false) => {
                let mut fresh = Value::Null;
                strategic(&mut fresh, item, &item_path);
                list.push(fresh);
            }
        }
    }
    *slot = Value::Array(list);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn smp(target: Value, patch: Value) -> Value {
        apply(PatchKind::Strategic, &target, patch.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn strategic_merges_containers_by_name_and_env_by_name() {
        let pod = json!({"spec": {"containers": [
            {"name": "app", "image": "app:1", "env": [{"name": "A", "value": "1"}]},
            {"name": "sidecar", "image": "proxy:1"}
        ]}});
        let patched = smp(
            pod,
            json!({"spec": {"containers": [{"name": "app", "image": "app:2", "env": [{"name": "B", "value": "2"}]}]}}),
        );
        assert_eq!(patched["spec"]["containers"][0]["image"], "app:2");
        assert_eq!(
            patched["spec"]["containers"][0]["env"],
            json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}])
        );
        assert_eq!(patched["spec"]["containers"][1]["image"], "proxy:1");
    }

    #[test]
    fn strategic_delete_directive_and_null() {
        let svc =
            json!({"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"ports": [{"port": 80}, {"port": 443}]}});
        let patched = smp(
            svc,
            json!({"metadata": {"labels": {"a": null}}, "spec": {"ports": [{"port": 443, "$patch": "delete"}]}}),
        );
        assert_eq!(patched["metadata"]["labels"], json!({"b": "2"}));
        assert_eq!(patched["spec"]["ports"], json!([{"port": 80}]));
    }

    #[test]
    fn merge_and_json_patch() {
        let doc = json!({"spec": {"replicas": 1, "paused": true}});
        let merged = apply(PatchKind::Merge, &doc, br#"{"spec":{"paused":null,"replicas":3}}"#).unwrap();
        assert_eq!(merged, json!({"spec": {"replicas": 3}}));
        let patched = apply(
            PatchKind::Json,
            &doc,
            br#"[{"op":"replace","path":"/spec/replicas","value":5}]"#,
        )
        .unwrap();
        assert_eq!(patched["spec"]["replicas"], 5);
        let err = apply(PatchKind::Json, &doc, br#"[{"op":"remove","path":"/spec/missing"}]"#).unwrap_err();
        assert_eq!(err.code, 422);
        assert_eq!(PatchKind::from_content_type("text/plain").unwrap_err().code, 415);
    }
}
