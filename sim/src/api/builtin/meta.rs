//! `ValidateObjectMeta` for every kind (built-in and custom): label keys and values, annotation
//! keys and their total size, finalizer names (the name itself is checked when it is created,
//! `objects::prepare_create`). A built-in kind's finalizer must be a standard one or carry a
//! domain (`pkg/apis/core/validation.ValidateFinalizerName`); a custom resource's only needs to
//! be a qualified name (apimachinery's generic check), which is how Argo CD's
//! `resources-finalizer.argocd.argoproj.io` is accepted on Applications.

use serde_json::{Map, Value};

use super::super::status::Cause;
use super::names::{label_value, qualified_name};
use super::quoted;

/// `TotalAnnotationSizeLimitB`.
const ANNOTATIONS_LIMIT: usize = 256 * 1024;

/// Finalizers kube-apiserver knows without a domain.
const STANDARD_FINALIZERS: [&str; 3] = ["kubernetes", "orphan", "foregroundDeletion"];

fn invalid(field: &str, value: &str, message: &str) -> Cause {
    Cause::new(
        "FieldValueInvalid",
        field.to_owned(),
        format!("Invalid value: {}: {message}", quoted(value)),
    )
}

pub(super) fn validate(obj: &Value, custom: bool) -> Vec<Cause> {
    let mut causes = Vec::new();
    let meta = obj.get("metadata").and_then(Value::as_object);
    let map = |key: &str| meta.and_then(|m| m.get(key)).and_then(Value::as_object);
    let mut labels: Vec<(&String, &Value)> = map("labels").map(Map::iter).into_iter().flatten().collect();
    labels.sort_by(|a, b| a.0.cmp(b.0));
    for (key, value) in labels {
        for problem in qualified_name(key) {
            causes.push(invalid("metadata.labels", key, &problem));
        }
        let value = value.as_str().unwrap_or_default();
        for problem in label_value(value) {
            causes.push(invalid("metadata.labels", value, &problem));
        }
    }
    let mut size = 0;
    let mut annotations: Vec<(&String, &Value)> = map("annotations").map(Map::iter).into_iter().flatten().collect();
    annotations.sort_by(|a, b| a.0.cmp(b.0));
    for (key, value) in annotations {
        for problem in qualified_name(&key.to_lowercase()) {
            causes.push(invalid("metadata.annotations", key, &problem));
        }
        size += key.len() + value.as_str().map_or(0, str::len);
    }
    if size > ANNOTATIONS_LIMIT {
        causes.push(Cause::new(
            "FieldValueTooLong",
            "metadata.annotations".to_owned(),
            format!("Too long: must have at most {ANNOTATIONS_LIMIT} bytes"),
        ));
    }
    let finalizers = meta.and_then(|m| m.get("finalizers")).and_then(Value::as_array);
    for (i, finalizer) in finalizers.into_iter().flatten().enumerate() {
        let name = finalizer.as_str().unwrap_or_default();
        let field = format!("metadata.finalizers[{i}]");
        let problems = qualified_name(name);
        if !problems.is_empty() {
            causes.extend(problems.iter().map(|p| invalid(&field, name, p)));
        } else if !custom && !name.contains('/') && !STANDARD_FINALIZERS.contains(&name) {
            causes.push(invalid(
                &field,
                name,
                "name is neither a standard finalizer name nor is it fully qualified",
            ));
        }
    }
    causes
}
