//! Is a live resource what Git declares? The desired object is applied to the live one by a
//! server-side apply dry run (field manager `sluice`), so defaults, admission mutations and
//! other managers' fields are the API server's, not a hand-written normalisation; this module
//! compares that prediction with the live object after removing what must not count: volatile
//! metadata, `status`, and the Application's `ignoreDifferences` (`jsonPointers`,
//! `jqPathExpressions`, `managedFieldsManagers`), matched by group, kind, name and namespace.

pub mod jq;
pub mod managed_fields;
mod unified;

use crds::gitops::ResourceIgnoreDifferences;
use serde_json::Value;

pub use unified::unified;

use crate::project::matches;
use crate::tracking::ResourceKey;

/// Metadata the server owns, never a difference.
const VOLATILE: [&str; 6] = [
    "managedFields",
    "resourceVersion",
    "generation",
    "uid",
    "creationTimestamp",
    "selfLink",
];

/// Whether `rule` applies to the resource `key`.
#[must_use]
pub fn rule_applies(rule: &ResourceIgnoreDifferences, key: &ResourceKey) -> bool {
    let group = rule.group.as_deref().unwrap_or("");
    matches(group, &key.group, false)
        && matches(&rule.kind, &key.kind, false)
        && rule.name.as_deref().is_none_or(|n| n.is_empty() || n == key.name)
        && rule
            .namespace
            .as_deref()
            .is_none_or(|n| n.is_empty() || matches(n, &key.namespace, false))
}

/// A rule that could not be applied, with the field that holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleError {
    /// e.g. `spec.ignoreDifferences[1].jqPathExpressions[0]`.
    pub field: String,
    /// Why.
    pub message: String,
}

/// `object` without what the comparison ignores. `live` supplies the managed fields for
/// `managedFieldsManagers`.
pub fn normalize(object: &Value, live: &Value, rules: &[ResourceIgnoreDifferences]) -> Result<Value, RuleError> {
    let mut out = object.clone();
    if let Some(meta) = out.get_mut("metadata").and_then(Value::as_object_mut) {
        for field in VOLATILE {
            meta.remove(field);
        }
        for map in ["annotations", "labels"] {
            if meta
                .get(map)
                .and_then(Value::as_object)
                .is_some_and(serde_json::Map::is_empty)
            {
                meta.remove(map);
            }
        }
    }
    if let Some(map) = out.as_object_mut() {
        map.remove("status");
    }
    let key = ResourceKey::of(object);
    for (i, rule) in rules.iter().enumerate() {
        if !rule_applies(rule, &key) {
            continue;
        }
        for pointer in &rule.json_pointers {
            remove_pointer(&mut out, pointer);
        }
        for (j, expression) in rule.jq_path_expressions.iter().enumerate() {
            out = jq::delete(&out, expression).map_err(|message| RuleError {
                field: format!("spec.ignoreDifferences[{i}].jqPathExpressions[{j}]"),
                message,
            })?;
        }
        for set in managed_fields::owned_by(live, &rule.managed_fields_managers) {
            managed_fields::remove(&mut out, set);
        }
    }
    Ok(out)
}

/// The desired object with the fields `rules` ignore taken from `live` (sync option
/// `RespectIgnoreDifferences=true`: a sync leaves alone what the comparison ignores), for
/// `jsonPointers` and `jqPathExpressions`.
pub fn keep_ignored(desired: &Value, live: &Value, rules: &[ResourceIgnoreDifferences]) -> Result<Value, RuleError> {
    let mut out = desired.clone();
    let key = ResourceKey::of(desired);
    for (i, rule) in rules.iter().enumerate() {
        if !rule_applies(rule, &key) {
            continue;
        }
        for pointer in &rule.json_pointers {
            match live.pointer(pointer) {
                Some(value) => set_pointer(&mut out, pointer, value.clone()),
                None => remove_pointer(&mut out, pointer),
            }
        }
        for (j, expression) in rule.jq_path_expressions.iter().enumerate() {
            let found = jq::paths(live, expression).map_err(|message| RuleError {
                field: format!("spec.ignoreDifferences[{i}].jqPathExpressions[{j}]"),
                message,
            })?;
            for path in found {
                let pointer: String = path
                    .iter()
                    .map(|p| match p {
                        Value::String(s) => format!("/{}", s.replace('~', "~0").replace('/', "~1")),
                        other => format!("/{other}"),
                    })
                    .collect();
                if let Some(value) = live.pointer(&pointer) {
                    set_pointer(&mut out, &pointer, value.clone());
                }
            }
        }
    }
    Ok(out)
}

/// Sets the field at `pointer`, creating objects on the way.
fn set_pointer(object: &mut Value, pointer: &str, value: Value) {
    let mut current = object;
    let parts: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|p| p.replace("~1", "/").replace("~0", "~"))
        .collect();
    for (n, part) in parts.iter().enumerate() {
        let last = n + 1 == parts.len();
        match current {
            Value::Object(map) => {
                if last {
                    map.insert(part.clone(), value);
                    return;
                }
                current = map
                    .entry(part.clone())
                    .or_insert_with(|| Value::Object(serde_json::Map::new()));
            }
            Value::Array(items) => {
                let Some(item) = part.parse::<usize>().ok().and_then(|i| items.get_mut(i)) else {
                    return;
                };
                if last {
                    *item = value;
                    return;
                }
                current = item;
            }
            _ => return,
        }
    }
}

/// Removes the field at the RFC 6901 `pointer`, if present.
pub fn remove_pointer(object: &mut Value, pointer: &str) {
    let Some((parent, last)) = pointer.rsplit_once('/') else {
        return;
    };
    let last = last.replace("~1", "/").replace("~0", "~");
    match object.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.remove(&last);
        }
        Some(Value::Array(items)) => {
            if let Ok(i) = last.parse::<usize>()
                && i < items.len()
            {
                items.remove(i);
            }
        }
        _ => {}
    }
}

/// The outcome of comparing one resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Comparison {
    /// Live matches Git (after what is ignored).
    Synced,
    /// They differ at these JSON pointers (the first few).
    OutOfSync(Vec<String>),
}

/// Compares the dry-run prediction of applying the desired object with the live object.
pub fn compare(predicted: &Value, live: &Value, rules: &[ResourceIgnoreDifferences]) -> Result<Comparison, RuleError> {
    let (p, l) = (normalize(predicted, live, rules)?, normalize(live, live, rules)?);
    let mut paths = Vec::new();
    differences("", &p, &l, &mut paths);
    Ok(if paths.is_empty() {
        Comparison::Synced
    } else {
        Comparison::OutOfSync(paths)
    })
}

fn differences(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    if out.len() >= 10 || a == b {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for key in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                let child = format!("{path}/{}", key.replace('~', "~0").replace('/', "~1"));
                differences(
                    &child,
                    x.get(key).unwrap_or(&Value::Null),
                    y.get(key).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        _ => out.push(if path.is_empty() {
            "/".to_owned()
        } else {
            path.to_owned()
        }),
    }
}

#[cfg(test)]
mod tests;
