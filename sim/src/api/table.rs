//! `meta.k8s.io/v1 Table` output, which `kubectl get` asks for: name, the CRD's printer columns, age.

use serde_json::{Value, json};

use super::resources::ResourceType;

/// Whether the Accept header asks for a Table.
#[must_use]
pub fn wanted(accept: &str) -> bool {
    accept.contains("as=Table")
}

/// A human age ("5s", "3m", "2h", "4d") of an RFC 3339 timestamp.
#[must_use]
pub fn age(timestamp: &str, now: jiff::Timestamp) -> String {
    let Ok(then) = timestamp.parse::<jiff::Timestamp>() else {
        return "<unknown>".into();
    };
    let secs = (now.as_second() - then.as_second()).max(0);
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

/// Reads a simple JSONPath such as `.status.replicas` or `.metadata.labels.app`.
fn lookup<'a>(obj: &'a Value, path: &str) -> Option<&'a Value> {
    path.trim_start_matches('.')
        .split('.')
        .filter(|s| !s.is_empty())
        .try_fold(obj, |v, key| v.get(key))
}

fn cell(value: Option<&Value>, column_type: &str, now: jiff::Timestamp) -> Value {
    match value {
        None | Some(Value::Null) => Value::Null,
        Some(Value::String(s)) if column_type == "date" => json!(age(s, now)),
        Some(v) => v.clone(),
    }
}

/// Renders objects as a Table.
#[must_use]
pub fn render(rt: &ResourceType, objects: &[Value], resource_version: u64) -> Value {
    let now = jiff::Timestamp::now();
    let mut columns = vec![
        json!({"name": "Name", "type": "string", "format": "name", "description": "Name must be unique within a namespace.", "priority": 0}),
    ];
    let mut paths: Vec<(String, String)> = Vec::new();
    for col in &rt.printer_columns {
        let name = col.get("name").and_then(Value::as_str).unwrap_or_default();
        let path = col.get("jsonPath").and_then(Value::as_str).unwrap_or_default();
        if name == "Age" && path == ".metadata.creationTimestamp" {
            continue;
        }
        let kind = col.get("type").and_then(Value::as_str).unwrap_or("string");
        columns.push(json!({
            "name": name, "type": kind, "format": col.get("format").cloned().unwrap_or(json!("")),
            "description": col.get("description").cloned().unwrap_or(json!("")),
            "priority": col.get("priority").cloned().unwrap_or(json!(0)),
        }));
        paths.push((path.to_owned(), kind.to_owned()));
    }
    columns.push(json!({"name": "Age", "type": "date", "format": "", "description": "CreationTimestamp of the object.", "priority": 0}));
    let rows: Vec<Value> = objects
        .iter()
        .map(|obj| {
            let mut cells = vec![obj.pointer("/metadata/name").cloned().unwrap_or(Value::Null)];
            cells.extend(paths.iter().map(|(path, kind)| cell(lookup(obj, path), kind, now)));
            cells.push(cell(obj.pointer("/metadata/creationTimestamp"), "date", now));
            let metadata = obj.get("metadata").cloned().unwrap_or_else(|| json!({}));
            json!({
                "cells": cells,
                "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": metadata}
            })
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version.to_string()},
        "columnDefinitions": columns,
        "rows": rows,
    })
}
