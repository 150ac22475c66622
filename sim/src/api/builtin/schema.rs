//! The OpenAPI schemas of the built-in kinds (from `k8s-openapi`'s generated `JsonSchema`), and
//! the fields of an object they do not declare: what kube-apiserver's strict decoding and
//! structured-merge-diff's typed conversion refuse, and `fieldValidation=Warn` warns about and
//! drops.

use std::collections::HashMap;
use std::sync::OnceLock;

use k8s_openapi::api::{apps, batch, coordination, core, discovery, networking, policy, rbac};
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::Value;

/// A root schema with its `$defs`.
type Root = Value;

fn root<T: JsonSchema>() -> Root {
    let schema = SchemaGenerator::default().into_root_schema_for::<T>();
    serde_json::to_value(schema).unwrap_or(Value::Null)
}

fn schemas() -> &'static HashMap<(&'static str, &'static str), Root> {
    static SCHEMAS: OnceLock<HashMap<(&'static str, &'static str), Root>> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        HashMap::from([
            (("", "ConfigMap"), root::<core::v1::ConfigMap>()),
            (("", "Secret"), root::<core::v1::Secret>()),
            (("", "Service"), root::<core::v1::Service>()),
            (("", "Pod"), root::<core::v1::Pod>()),
            (("", "Namespace"), root::<core::v1::Namespace>()),
            (("", "ServiceAccount"), root::<core::v1::ServiceAccount>()),
            (("", "Endpoints"), root::<core::v1::Endpoints>()),
            (("", "Event"), root::<core::v1::Event>()),
            (("", "Node"), root::<core::v1::Node>()),
            (("", "PersistentVolumeClaim"), root::<core::v1::PersistentVolumeClaim>()),
            (("", "ResourceQuota"), root::<core::v1::ResourceQuota>()),
            (("", "LimitRange"), root::<core::v1::LimitRange>()),
            (("apps", "Deployment"), root::<apps::v1::Deployment>()),
            (("apps", "ReplicaSet"), root::<apps::v1::ReplicaSet>()),
            (("apps", "StatefulSet"), root::<apps::v1::StatefulSet>()),
            (("apps", "DaemonSet"), root::<apps::v1::DaemonSet>()),
            (("batch", "Job"), root::<batch::v1::Job>()),
            (("batch", "CronJob"), root::<batch::v1::CronJob>()),
            (("coordination.k8s.io", "Lease"), root::<coordination::v1::Lease>()),
            (
                ("discovery.k8s.io", "EndpointSlice"),
                root::<discovery::v1::EndpointSlice>(),
            ),
            (("networking.k8s.io", "Ingress"), root::<networking::v1::Ingress>()),
            (
                ("networking.k8s.io", "NetworkPolicy"),
                root::<networking::v1::NetworkPolicy>(),
            ),
            (
                ("policy", "PodDisruptionBudget"),
                root::<policy::v1::PodDisruptionBudget>(),
            ),
            (("rbac.authorization.k8s.io", "Role"), root::<rbac::v1::Role>()),
            (
                ("rbac.authorization.k8s.io", "RoleBinding"),
                root::<rbac::v1::RoleBinding>(),
            ),
            (
                ("rbac.authorization.k8s.io", "ClusterRole"),
                root::<rbac::v1::ClusterRole>(),
            ),
            (
                ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
                root::<rbac::v1::ClusterRoleBinding>(),
            ),
        ])
    })
}

/// The schema of a built-in kind, if the simulator knows it.
#[must_use]
pub fn of(group: &str, kind: &str) -> Option<&'static Root> {
    schemas()
        .iter()
        .find(|((g, k), _)| *g == group && *k == kind)
        .map(|(_, root)| root)
}

fn resolve<'a>(root: &'a Root, schema: &'a Value) -> &'a Value {
    let mut current = schema;
    for _ in 0..32 {
        let Some(reference) = current.get("$ref").and_then(Value::as_str) else {
            return current;
        };
        let Some(name) = reference.strip_prefix("#/$defs/") else {
            return current;
        };
        match root.pointer(&format!("/$defs/{}", name.replace('~', "~0").replace('/', "~1"))) {
            Some(next) => current = next,
            None => return current,
        }
    }
    current
}

/// Whether the node at `path` (fieldsV1 elements) is a struct (declared properties) rather than
/// a map or a list item: structured-merge-diff never records a struct itself (`.`) as owned.
#[must_use]
pub fn is_struct(root: &Root, path: &[String]) -> bool {
    let mut node = root;
    for element in path {
        let resolved = resolve(root, node);
        let next = match crds::fields_v1::parse(element) {
            Some(crds::fields_v1::Element::Field(name)) => {
                resolved.pointer(&format!("/properties/{}", name.replace('~', "~0").replace('/', "~1")))
            }
            Some(crds::fields_v1::Element::Itself) => Some(resolved),
            Some(_) => resolved.get("items"),
            None => None,
        };
        let Some(next) = next else { return false };
        node = next;
    }
    resolve(root, node).get("properties").is_some()
}

/// The first value whose JSON type the schema does not take, worded as Go's
/// `json.UnmarshalTypeError`: `json: cannot unmarshal string into Go struct field
/// DeploymentSpec.spec.replicas of type int32` (the innermost struct, the field's path without
/// list indices, the Go type).
#[must_use]
pub fn type_error(root: &Root, kind: &str, obj: &Value) -> Option<String> {
    mismatch(root, root, obj, kind, "")
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
        Value::Null => "null",
    }
}

/// The Go type a scalar schema stands for, and whether `value` fits it.
fn scalar(schema: &Value, value: &Value) -> Option<(&'static str, bool)> {
    if schema.get("x-kubernetes-int-or-string").is_some() {
        return None;
    }
    let format = schema.get("format").and_then(Value::as_str).unwrap_or_default();
    match schema.get("type").and_then(Value::as_str)? {
        "integer" => Some((
            if format == "int64" { "int64" } else { "int32" },
            value.is_i64() || value.is_u64(),
        )),
        "number" => Some(("float64", value.is_number())),
        "boolean" => Some(("bool", value.is_boolean())),
        "string" => Some(("string", value.is_string())),
        _ => None,
    }
}

fn def_name(schema: &Value) -> Option<&str> {
    let reference = schema.get("$ref")?.as_str()?;
    reference.rsplit('.').next()
}

fn mismatch(root: &Root, schema: &Value, value: &Value, strukt: &str, path: &str) -> Option<String> {
    let strukt = def_name(schema).unwrap_or(strukt);
    let schema = resolve(root, schema);
    if value.is_null() {
        return None;
    }
    if let Some((go, fits)) = scalar(schema, value) {
        return (!fits).then(|| {
            format!(
                "json: cannot unmarshal {} into Go struct field {strukt}.{path} of type {go}",
                json_kind(value)
            )
        });
    }
    match value {
        Value::Object(map) => {
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                for (key, child) in map {
                    let Some(child_schema) = properties.get(key) else {
                        continue;
                    };
                    let child_path = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    if let Some(error) = mismatch(root, child_schema, child, strukt, &child_path) {
                        return Some(error);
                    }
                }
            } else if let Some(values) = schema.get("additionalProperties").filter(|a| a.is_object()) {
                for child in map.values() {
                    if let Some(error) = mismatch(root, values, child, strukt, path) {
                        return Some(error);
                    }
                }
            }
            None
        }
        Value::Array(items) => {
            let item_schema = schema.get("items")?;
            items
                .iter()
                .find_map(|item| mismatch(root, item_schema, item, strukt, path))
        }
        _ => None,
    }
}

/// An unknown field: its path as kube-apiserver prints it (`spec.ports[0].targetPorts`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unknown(pub String);

/// The fields of `obj` the schema does not declare, in order; with `prune`, they are removed.
pub fn unknown(root: &Root, obj: &mut Value, prune: bool) -> Vec<Unknown> {
    let mut found = Vec::new();
    walk(root, root, obj, "", prune, &mut found);
    found
}

fn walk(root: &Root, schema: &Value, value: &mut Value, path: &str, prune: bool, found: &mut Vec<Unknown>) {
    let schema = resolve(root, schema);
    match value {
        Value::Object(map) => {
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                let keys: Vec<String> = map.keys().cloned().collect();
                for key in keys {
                    let child_path = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    match properties.get(&key) {
                        Some(child) => {
                            if let Some(v) = map.get_mut(&key) {
                                walk(root, child, v, &child_path, prune, found);
                            }
                        }
                        None if schema.get("additionalProperties").is_none() => {
                            found.push(Unknown(child_path));
                            if prune {
                                map.remove(&key);
                            }
                        }
                        None => {}
                    }
                }
            } else if let Some(values) = schema.get("additionalProperties").filter(|a| a.is_object()) {
                for (key, v) in map.iter_mut() {
                    walk(root, values, v, &format!("{path}[{key}]"), prune, found);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter_mut().enumerate() {
                    walk(root, item_schema, item, &format!("{path}[{i}]"), prune, found);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn undeclared_fields_are_found_where_kube_apiserver_finds_them() {
        let service = of("", "Service").unwrap();
        let mut obj = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "labels": {"a": "b"}},
            "spec": {"selectors": {"a": "b"}, "ports": [{"port": 80, "targetPorts": 8080}]}});
        let found = unknown(service, &mut obj, true);
        assert_eq!(
            found,
            vec![
                Unknown("spec.ports[0].targetPorts".into()),
                Unknown("spec.selectors".into())
            ]
        );
        assert!(obj["spec"].get("selectors").is_none());
        assert_eq!(
            type_error(service, "Service", &json!({"spec": {"ports": [{"port": "80"}]}})).as_deref(),
            Some("json: cannot unmarshal string into Go struct field ServicePort.spec.ports.port of type int32")
        );
        let deployment = of("apps", "Deployment").unwrap();
        assert_eq!(
            type_error(deployment, "Deployment", &json!({"spec": {"replicas": "3"}})).as_deref(),
            Some("json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32")
        );
        let config_map = of("", "ConfigMap").unwrap();
        assert_eq!(
            type_error(config_map, "ConfigMap", &json!({"data": {"a": 1}})).as_deref(),
            Some("json: cannot unmarshal number into Go struct field ConfigMap.data of type string")
        );
        let mut obj =
            json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "imagePullPolice": "Always"}]}}}});
        assert_eq!(
            unknown(deployment, &mut obj, false),
            vec![Unknown("spec.template.spec.containers[0].imagePullPolice".into())]
        );
    }
}
