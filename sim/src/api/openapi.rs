//! OpenAPI v3 documents (`/openapi/v3` and one per group version), as kubectl reads them: to learn
//! that the server validates fields itself (`fieldValidation`), and for `kubectl explain`, which shows
//! the descriptions of a CRD's schema.

use serde_json::{Map, Value, json};

use super::registry::Registry;
use super::resources::ResourceType;

fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// `/openapi/v3`: where each group version's document is.
#[must_use]
pub fn index(registry: &Registry, hash: u64) -> Value {
    let mut paths = Map::new();
    let mut seen = Vec::new();
    for t in registry.all() {
        let path = gv_path(&t.group, &t.version);
        if !seen.contains(&path) {
            paths.insert(
                path.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{path}?hash={hash:016X}")}),
            );
            seen.push(path);
        }
    }
    json!({"paths": paths})
}

/// The schema name Kubernetes gives a kind, e.g. `io.argoproj.v1alpha1.Rollout`.
fn schema_name(t: &ResourceType) -> String {
    let group = if t.group.is_empty() {
        "io.k8s.api.core".to_owned()
    } else {
        t.group.split('.').rev().collect::<Vec<_>>().join(".")
    };
    format!("{group}.{}.{}", t.version, t.kind)
}

fn gvk(t: &ResourceType) -> Value {
    json!({"group": t.group, "version": t.version, "kind": t.kind})
}

fn operation(t: &ResourceType, action: &str, field_validation: bool) -> Value {
    let mut params = vec![json!({"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": true}})];
    if field_validation {
        params
            .push(json!({"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": true}}));
    }
    json!({
        "operationId": format!("{action}{}", t.kind),
        "parameters": params,
        "responses": {"200": {"description": "OK"}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": gvk(t),
    })
}

fn type_schema(t: &ResourceType) -> Value {
    let mut schema = t
        .schema
        .as_deref()
        .cloned()
        .unwrap_or_else(|| json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}));
    if let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        props.insert("apiVersion".into(), json!({"type": "string", "description": "APIVersion defines the versioned schema of this representation of an object."}));
        props.insert("kind".into(), json!({"type": "string", "description": "Kind is a string value representing the REST resource this object represents."}));
        props.insert(
            "metadata".into(),
            json!({"type": "object", "description": "Standard object's metadata."}),
        );
    }
    schema["x-kubernetes-group-version-kind"] = json!([gvk(t)]);
    schema
}

/// The document of one group version, or `None` when nothing is served there.
#[must_use]
pub fn group_version(registry: &Registry, group: &str, version: &str) -> Option<Value> {
    let types: Vec<&ResourceType> = registry.in_group_version(group, version).collect();
    if types.is_empty() {
        return None;
    }
    let mut paths = Map::new();
    let mut schemas = Map::new();
    for t in types {
        let base = format!("/{}", gv_path(&t.group, &t.version));
        let collection = if t.namespaced {
            format!("{base}/namespaces/{{namespace}}/{}", t.plural)
        } else {
            format!("{base}/{}", t.plural)
        };
        paths.insert(
            collection.clone(),
            json!({"get": operation(t, "list", false), "post": operation(t, "post", true)}),
        );
        paths.insert(
            format!("{collection}/{{name}}"),
            json!({"get": operation(t, "get", false), "put": operation(t, "put", true), "patch": operation(t, "patch", true), "delete": operation(t, "delete", false)}),
        );
        schemas.insert(schema_name(t), type_schema(t));
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": format!("v1.{}.0", super::discovery::KUBE_MINOR)},
        "paths": paths,
        "components": {"schemas": schemas},
    }))
}
