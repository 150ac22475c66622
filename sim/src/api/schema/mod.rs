//! Custom resources checked against their CRD's structural schema, as kube-apiserver does: unknown
//! fields pruned (unless `x-kubernetes-preserve-unknown-fields`), nulls of non-nullable fields
//! dropped, types, enums, value bounds and formats ([`bounds`]) and required fields enforced (422
//! with the field path), int-or-string honoured, and schema defaults applied. CEL rules
//! (`x-kubernetes-validations`) are not evaluated: each object that has some gets a warning
//! saying so.

mod bounds;
mod format;

use serde_json::{Map, Value};

/// What checking an object against a schema found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Admission {
    /// Paths of fields that were pruned because the schema does not declare them.
    pub unknown: Vec<String>,
    /// (path, message) of every invalid field.
    pub invalid: Vec<(String, String)>,
    /// Paths of fields whose CEL rules (`x-kubernetes-validations`) were not evaluated.
    pub unevaluated_rules: Vec<String>,
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn flag(schema: &Value, key: &str) -> bool {
    schema.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// Checks, prunes and defaults `obj` (the whole object) against the CRD's `openAPIV3Schema`.
/// `metadata`, `apiVersion` and `kind` are the server's business and are not pruned.
#[must_use]
pub fn admit(schema: &Value, obj: &mut Value) -> Admission {
    let mut found = Admission::default();
    let Some(map) = obj.as_object_mut() else {
        found.invalid.push((String::new(), "must be an object".into()));
        return found;
    };
    let props = schema.get("properties").and_then(Value::as_object);
    let keys: Vec<String> = map.keys().cloned().collect();
    for key in keys {
        if ["apiVersion", "kind", "metadata"].contains(&key.as_str()) {
            continue;
        }
        match props.and_then(|p| p.get(&key)) {
            Some(child) => {
                if let Some(value) = map.get_mut(&key) {
                    if value.is_null() && !flag(child, "nullable") {
                        map.remove(&key);
                        continue;
                    }
                    walk(child, value, &key, &mut found);
                }
            }
            None if flag(schema, "x-kubernetes-preserve-unknown-fields") => {}
            None => {
                map.remove(&key);
                found.unknown.push(key);
            }
        }
    }
    apply_defaults(schema, map);
    required(schema, map, "", &mut found);
    if schema.get("x-kubernetes-validations").is_some() {
        found.unevaluated_rules.insert(0, "<root>".into());
    }
    found
}

fn required(schema: &Value, map: &Map<String, Value>, path: &str, found: &mut Admission) {
    for name in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !map.contains_key(name) {
            found.invalid.push((join(path, name), "Required value".into()));
        }
    }
}

fn apply_defaults(schema: &Value, map: &mut Map<String, Value>) {
    for (name, child) in schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if let Some(default) = child.get("default") {
            map.entry(name.clone()).or_insert_with(|| default.clone());
        }
    }
}

fn walk(schema: &Value, value: &mut Value, path: &str, found: &mut Admission) {
    if value.is_null() && flag(schema, "nullable") {
        return;
    }
    if flag(schema, "x-kubernetes-int-or-string") {
        if !matches!(type_name(value), "integer" | "string") {
            let t = type_name(value);
            found.invalid.push((
                path.to_owned(),
                format!("Invalid value: \"{t}\": {path} in body must be of type integer-or-string: \"{t}\""),
            ));
        }
        return;
    }
    let expected = schema.get("type").and_then(Value::as_str);
    let actual = type_name(value);
    if let Some(expected) = expected {
        let ok = expected == actual || (expected == "number" && actual == "integer");
        if !ok {
            found.invalid.push((
                path.to_owned(),
                format!("Invalid value: \"{actual}\": {path} in body must be of type {expected}: \"{actual}\""),
            ));
            return;
        }
    }
    found.invalid.extend(bounds::check(schema, value, path));
    if schema.get("x-kubernetes-validations").is_some() {
        found.unevaluated_rules.push(path.to_owned());
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        let list: Vec<String> = allowed.iter().map(Value::to_string).collect();
        found.invalid.push((
            path.to_owned(),
            format!("Unsupported value: {value}: supported values: {}", list.join(", ")),
        ));
    }
    match value {
        Value::Object(map) => object(schema, map, path, found),
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter_mut().enumerate() {
                    walk(item_schema, item, &format!("{path}[{i}]"), found);
                }
            }
        }
        _ => {}
    }
}

fn object(schema: &Value, map: &mut Map<String, Value>, path: &str, found: &mut Admission) {
    let props = schema.get("properties").and_then(Value::as_object);
    let additional = schema.get("additionalProperties").filter(|a| a.is_object());
    let preserve = flag(schema, "x-kubernetes-preserve-unknown-fields")
        || schema.get("additionalProperties") == Some(&Value::Bool(true));
    let keys: Vec<String> = map.keys().cloned().collect();
    for key in keys {
        let child_schema = props.and_then(|p| p.get(&key)).or(additional);
        let child_path = join(path, &key);
        match child_schema {
            Some(child) => {
                if let Some(value) = map.get_mut(&key) {
                    if value.is_null() && !flag(child, "nullable") {
                        map.remove(&key);
                        continue;
                    }
                    walk(child, value, &child_path, found);
                }
            }
            None if preserve => {}
            None => {
                map.remove(&key);
                found.unknown.push(child_path);
            }
        }
    }
    apply_defaults(schema, map);
    required(schema, map, path, found);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "spec": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string"},
                        "replicas": {"type": "integer", "nullable": true},
                        "size": {"x-kubernetes-int-or-string": true},
                        "mode": {"type": "string", "enum": ["fast", "safe"], "default": "safe"},
                        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                        "template": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                        "steps": {"type": "array", "items": {"type": "object", "properties": {"setWeight": {"type": "integer"}}}}
                    }
                }
            }
        })
    }

    #[test]
    fn prunes_unknown_fields_but_keeps_preserved_ones_and_applies_defaults() {
        let mut obj = json!({"apiVersion": "x/v1", "kind": "X", "metadata": {"name": "a", "whatever": 1}, "extra": 1,
            "spec": {"name": "a", "bogus": true, "template": {"anything": {"goes": 1}}, "steps": [{"setWeight": 10, "typo": 1}], "labels": {"a": "b"}}});
        let found = admit(&schema(), &mut obj);
        assert_eq!(found.unknown, ["extra", "spec.bogus", "spec.steps[0].typo"]);
        assert!(found.invalid.is_empty(), "{:?}", found.invalid);
        assert_eq!(obj["spec"]["template"], json!({"anything": {"goes": 1}}));
        assert_eq!(obj["spec"]["mode"], "safe");
        assert_eq!(obj["metadata"]["whatever"], 1, "metadata is not pruned by the schema");
    }

    #[test]
    fn reports_types_enums_required_and_int_or_string() {
        let mut obj = json!({"spec": {"replicas": "three", "size": true, "mode": "yolo", "labels": {"a": 1}}});
        let found = admit(&schema(), &mut obj);
        assert_eq!(
            found.invalid,
            [
                (
                    "spec.labels.a".to_owned(),
                    "Invalid value: \"integer\": spec.labels.a in body must be of type string: \"integer\"".to_owned()
                ),
                (
                    "spec.mode".to_owned(),
                    "Unsupported value: \"yolo\": supported values: \"fast\", \"safe\"".to_owned()
                ),
                (
                    "spec.replicas".to_owned(),
                    "Invalid value: \"string\": spec.replicas in body must be of type integer: \"string\"".to_owned()
                ),
                (
                    "spec.size".to_owned(),
                    "Invalid value: \"boolean\": spec.size in body must be of type integer-or-string: \"boolean\""
                        .to_owned()
                ),
                ("spec.name".to_owned(), "Required value".to_owned()),
            ]
        );
    }

    #[test]
    fn nulls_are_dropped_unless_nullable() {
        let mut obj = json!({"spec": {"name": "a", "replicas": null, "labels": null}});
        let found = admit(&schema(), &mut obj);
        assert!(found.invalid.is_empty());
        assert_eq!(obj["spec"], json!({"name": "a", "replicas": null, "mode": "safe"}));
    }
}
