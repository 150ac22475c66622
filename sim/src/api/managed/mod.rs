//! Field ownership (`metadata.managedFields`) and server-side apply.
//!
//! Every write records which manager owns which fields. An apply merges the applied configuration
//! into the object, refuses to change fields another manager owns (409, naming it) unless forced,
//! and removes fields the manager applied before but no longer applies, when nobody else owns them.

mod fieldset;
mod lists;

use serde_json::{Value, json};

use self::fieldset::{FieldSet, display_path, remove_at, value_at};
use self::lists::{ListKind, list_kind};
use super::objects::Part;
use super::resources::ResourceType;
use super::status::ApiError;

/// One `managedFields` entry.
#[derive(Clone, Debug, PartialEq)]
struct Entry {
    manager: String,
    operation: String,
    api_version: String,
    subresource: Option<String>,
    time: String,
    fields: FieldSet,
}

impl Entry {
    fn from_json(value: &Value) -> Option<Self> {
        let s = |k: &str| value.get(k).and_then(Value::as_str).map(str::to_owned);
        Some(Self {
            manager: s("manager")?,
            operation: s("operation").unwrap_or_else(|| "Update".into()),
            api_version: s("apiVersion").unwrap_or_default(),
            subresource: s("subresource"),
            time: s("time").unwrap_or_default(),
            fields: FieldSet::from_json(value.get("fieldsV1").unwrap_or(&Value::Null)),
        })
    }

    fn to_json(&self) -> Value {
        let mut v = json!({
            "manager": self.manager, "operation": self.operation, "apiVersion": self.api_version,
            "time": self.time, "fieldsType": "FieldsV1", "fieldsV1": self.fields.to_json(),
        });
        if let Some(sub) = &self.subresource {
            v["subresource"] = json!(sub);
        }
        v
    }
}

fn entries(obj: &Value) -> Vec<Entry> {
    obj.pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Entry::from_json).collect())
        .unwrap_or_default()
}

fn set_entries(obj: &mut Value, entries: &[Entry]) {
    let list: Vec<Value> = entries
        .iter()
        .filter(|e| !e.fields.is_empty())
        .map(Entry::to_json)
        .collect();
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        if list.is_empty() {
            meta.remove("managedFields");
        } else {
            meta.insert("managedFields".into(), Value::Array(list));
        }
    }
}

fn subresource_name(part: Part) -> Option<String> {
    (part == Part::Status).then(|| "status".to_owned())
}

/// The part of an object a write to `part` can own: status only for `/status`; everything but
/// status for the main resource when status is a subresource.
fn owned_view(rt: &ResourceType, obj: &Value, part: Part) -> Value {
    let Some(map) = obj.as_object() else {
        return obj.clone();
    };
    // Only the part's own fields are copied (a status view does not copy the spec).
    let keep = |k: &str| match part {
        Part::Status => k == "status",
        Part::Main => !(rt.status_subresource && k == "status"),
    };
    Value::Object(
        map.iter()
            .filter(|(k, _)| keep(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    )
}

/// Records the fields a non-apply write (create, update, patch) changed as owned by `manager`.
pub fn record_update(rt: &ResourceType, old: Option<&Value>, new: &mut Value, manager: &str, part: Part, now: &str) {
    // The views and field sets of both parts are built once each.
    let other_part = if part == Part::Status { Part::Main } else { Part::Status };
    let new_view = owned_view(rt, new, part);
    let new_set = FieldSet::of_object(&new_view, rt.custom);
    let old_view = old.map(|o| owned_view(rt, o, part)).unwrap_or_else(|| json!({}));
    let changed: Vec<Vec<String>> = new_set
        .leaves()
        .into_iter()
        .filter(|leaf| owns_change(rt, leaf, &old_view, &new_view))
        .collect();
    let mut list = entries(old.unwrap_or(&Value::Null));
    let whole = new_set.union(&FieldSet::of_object(&owned_view(rt, new, other_part), rt.custom));
    let changed_set = leaves_to_set(&changed);
    for entry in &mut list {
        if entry.manager != manager || entry.operation != "Update" {
            entry.fields = entry.fields.difference(&changed_set);
        }
        entry.fields = entry.fields.intersection(&whole);
    }
    let sub = subresource_name(part);
    match list
        .iter_mut()
        .find(|e| e.manager == manager && e.operation == "Update" && e.subresource == sub)
    {
        Some(entry) => {
            entry.fields = entry.fields.union(&changed_set);
            entry.time = now.to_owned();
        }
        None if !changed_set.is_empty() => list.push(Entry {
            manager: manager.to_owned(),
            operation: "Update".into(),
            api_version: rt.api_version(),
            subresource: sub,
            time: now.to_owned(),
            fields: changed_set,
        }),
        None => {}
    }
    set_entries(new, &list);
}

/// Whether an update owns `leaf`: a value it changed; a node itself (`.`) only when it was not
/// there before and is a map or a list item, never a struct (structured-merge-diff records what
/// an update added, and a struct always exists in its typed form).
fn owns_change(rt: &ResourceType, leaf: &[String], old: &Value, new: &Value) -> bool {
    let Some((last, parent)) = leaf.split_last() else {
        return false;
    };
    if last != "." {
        return value_at(new, leaf) != value_at(old, leaf);
    }
    if value_at(old, parent).is_some() {
        return false;
    }
    let item = parent
        .last()
        .is_some_and(|e| e.starts_with("k:") || e.starts_with("v:") || e.starts_with("i:"));
    item || !is_struct(rt, parent)
}

/// Whether the field at `path` is a struct in the kind's schema (built-in or custom).
fn is_struct(rt: &ResourceType, path: &[String]) -> bool {
    if path.len() == 1 && path[0] == "f:metadata" {
        return true;
    }
    match (rt.custom, rt.schema.as_ref()) {
        (true, Some(schema)) => crate::api::builtin::schema::is_struct(schema, path),
        (false, _) => crate::api::builtin::schema::of(&rt.group, &rt.kind)
            .is_some_and(|root| crate::api::builtin::schema::is_struct(root, path)),
        (true, None) => false,
    }
}

fn leaves_to_set(leaves: &[Vec<String>]) -> FieldSet {
    fn insert(node: &mut serde_json::Map<String, Value>, path: &[String]) {
        if let Some((first, rest)) = path.split_first() {
            let child = node.entry(first.clone()).or_insert_with(|| json!({}));
            if let Some(child) = child.as_object_mut() {
                insert(child, rest);
            }
        }
    }
    let mut root = serde_json::Map::new();
    for leaf in leaves {
        insert(&mut root, leaf);
    }
    FieldSet::from_json(&Value::Object(root))
}

/// Merges an applied configuration into a live object, with the list semantics of apply.
fn merge(live: &Value, applied: &Value, field: &str, parent: &str, custom: bool) -> Value {
    let path = format!("{parent}.{field}");
    match (live, applied) {
        (Value::Object(l), Value::Object(a)) => {
            let mut out = l.clone();
            for (key, value) in a {
                if value.is_null() {
                    out.remove(key);
                    continue;
                }
                let child_path = if field.is_empty() { String::new() } else { path.clone() };
                let merged = match out.get(key) {
                    Some(existing) => merge(existing, value, key, &child_path, custom),
                    None => value.clone(),
                };
                out.insert(key.clone(), merged);
            }
            Value::Object(out)
        }
        (Value::Array(l), Value::Array(a)) => match list_kind(field, parent, custom) {
            ListKind::Map(keys) => {
                let mut out = l.clone();
                for item in a {
                    let same = |x: &Value| keys.iter().all(|k| lists::key_value(x, k) == lists::key_value(item, k));
                    match out.iter().position(same) {
                        Some(i) => out[i] = merge(&out[i], item, "[]", &path, custom),
                        None => out.push(item.clone()),
                    }
                }
                Value::Array(out)
            }
            ListKind::Set => {
                let mut out = l.clone();
                out.extend(a.iter().filter(|x| !l.contains(x)).cloned());
                Value::Array(out)
            }
            ListKind::Atomic => applied.clone(),
        },
        _ => applied.clone(),
    }
}

/// Fields a manager applied before and no longer applies, which nobody else owns, are removed.
fn remove_dropped(obj: &mut Value, dropped: &FieldSet) {
    let leaves = dropped.leaves();
    let is_dot = |l: &Vec<String>| l.last().is_some_and(|e| e == ".");
    let item_of =
        |l: &Vec<String>| l.len() >= 2 && (l[l.len() - 2].starts_with("k:") || l[l.len() - 2].starts_with("v:"));
    // Whole list items first (while their keys can still be found), then single fields, then maps
    // that were left empty.
    for leaf in leaves.iter().filter(|l| is_dot(l) && item_of(l)) {
        remove_at(obj, &leaf[..leaf.len() - 1]);
    }
    for leaf in leaves.iter().filter(|l| !is_dot(l)) {
        remove_at(obj, leaf);
    }
    for leaf in leaves.iter().filter(|l| is_dot(l) && !item_of(l)) {
        let container = &leaf[..leaf.len() - 1];
        if value_at(obj, container)
            .and_then(Value::as_object)
            .is_some_and(serde_json::Map::is_empty)
        {
            remove_at(obj, container);
        }
    }
}

/// A server-side apply by `manager`. `live` is the stored object, or `None` to create it; the
/// returned object still goes through the usual create/update preparation.
///
/// # Errors
/// 409 Conflict naming the other managers and fields, unless `force`.
pub fn apply(
    rt: &ResourceType,
    live: Option<&Value>,
    applied: &Value,
    manager: &str,
    force: bool,
    part: Part,
    now: &str,
) -> Result<Value, ApiError> {
    let applied_view = owned_view(rt, applied, part);
    let applied_set = FieldSet::of_object(&applied_view, rt.custom).without_map_dots();
    let sub = subresource_name(part);
    let mine = |e: &Entry| e.manager == manager && e.operation == "Apply" && e.subresource == sub;
    let new_entry = |fields: FieldSet| Entry {
        manager: manager.into(),
        operation: "Apply".into(),
        api_version: rt.api_version(),
        subresource: sub.clone(),
        time: now.into(),
        fields,
    };
    let Some(live) = live else {
        let mut obj = applied.clone();
        let entry = new_entry(applied_set);
        if obj.get("metadata").is_none() {
            obj["metadata"] = json!({});
        }
        set_entries(&mut obj, &[entry]);
        return Ok(obj);
    };
    let mut list = entries(live);
    let mut conflicts: Vec<(String, String)> = Vec::new();
    for entry in list.iter_mut().filter(|e| !mine(e) && e.subresource == sub) {
        let mut taken = Vec::new();
        for leaf in applied_set.intersection(&entry.fields).leaves() {
            if leaf.last().is_some_and(|e| e == ".") {
                continue;
            }
            if value_at(live, &leaf) != value_at(&applied_view, &leaf) {
                conflicts.push((who(entry), display_path(&leaf)));
                taken.push(leaf);
            }
        }
        if force {
            entry.fields = entry.fields.difference(&leaves_to_set(&taken));
        }
    }
    if !conflicts.is_empty() && !force {
        return Err(conflict_error(&conflicts));
    }
    let mut merged = merge(live, &applied_view, "", "", rt.custom);
    let previous = list
        .iter()
        .find(|e| mine(e))
        .map(|e| e.fields.clone())
        .unwrap_or_default();
    let others = list
        .iter()
        .filter(|e| !mine(e))
        .fold(FieldSet::default(), |acc, e| acc.union(&e.fields));
    remove_dropped(&mut merged, &previous.difference(&applied_set).difference(&others));
    list.retain(|e| !mine(e));
    list.push(new_entry(applied_set));
    set_entries(&mut merged, &list);
    Ok(merged)
}

/// A manager as kube-apiserver names it in a conflict: `"name"` for an applier, `"name" using
/// v1` for an updater.
fn who(entry: &Entry) -> String {
    if entry.operation == "Apply" {
        format!("{:?}", entry.manager)
    } else {
        format!("{:?} using {}", entry.manager, entry.api_version)
    }
}

/// The 409 of an apply that conflicts, worded as kube-apiserver's `NewConflictError` over
/// structured-merge-diff's `Conflicts`: one conflict on one line, several grouped by manager.
fn conflict_error(conflicts: &[(String, String)]) -> ApiError {
    let n = conflicts.len();
    let message = if let [(manager, field)] = conflicts {
        format!("Apply failed with 1 conflict: conflict with {manager}: {field}")
    } else {
        let mut managers: Vec<&str> = conflicts.iter().map(|(m, _)| m.as_str()).collect();
        managers.dedup();
        let groups: Vec<String> = managers
            .iter()
            .map(|m| {
                let fields: Vec<String> = conflicts
                    .iter()
                    .filter(|(x, _)| x == m)
                    .map(|(_, f)| format!("- {f}"))
                    .collect();
                format!("conflicts with {m}:\n{}", fields.join("\n"))
            })
            .collect();
        format!("Apply failed with {n} conflicts: {}", groups.join("\n"))
    };
    let causes: Vec<Value> = conflicts
        .iter()
        .map(|(m, f)| json!({"reason": "FieldManagerConflict", "message": format!("conflict with {m}"), "field": f}))
        .collect();
    ApiError {
        code: 409,
        reason: "Conflict",
        message,
        details: Some(json!({"causes": causes})),
    }
}

/// The field manager of a non-apply write: `?fieldManager=`, else the client's product name from
/// its User-Agent (`kubectl/v1.32 ...` gives `kubectl`), as kube-apiserver derives it.
#[must_use]
pub fn manager_name(param: Option<&str>, user_agent: &str) -> String {
    match param.filter(|m| !m.is_empty()) {
        Some(m) => m.to_owned(),
        None => user_agent
            .split('/')
            .next()
            .filter(|p| !p.is_empty())
            .unwrap_or("unknown")
            .to_owned(),
    }
}

#[cfg(test)]
mod tests;
