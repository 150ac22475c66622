//! Field sets in Kubernetes' `FieldsV1` form: `f:<field>` for map keys, `k:{...}` for items of
//! associative lists, `v:<value>` for items of set lists, and `.` for "the item itself".

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::lists::{ListKind, list_kind};

/// A set of fields, as a tree.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSet(BTreeMap<String, FieldSet>);

/// Top-level fields that identify an object rather than describe it; never owned.
const IDENTITY: &[&str] = &["apiVersion", "kind"];
const SERVER_METADATA: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "selfLink",
];

fn key_element(item: &Value, keys: &[&str]) -> String {
    let mut map = Map::new();
    for key in keys {
        if let Some(v) = super::lists::key_value(item, key) {
            map.insert((*key).to_owned(), v);
        }
    }
    format!("k:{}", Value::Object(map))
}

impl FieldSet {
    /// True when the set holds no field.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The fields set in an object (an applied configuration, or a stored object).
    #[must_use]
    pub fn of_object(obj: &Value, custom: bool) -> Self {
        let mut set = Self::default();
        if let Some(map) = obj.as_object() {
            for (key, value) in map {
                if IDENTITY.contains(&key.as_str()) {
                    continue;
                }
                let child = if key == "metadata" {
                    let mut meta = value.clone();
                    if let Some(m) = meta.as_object_mut() {
                        for k in SERVER_METADATA {
                            m.remove(*k);
                        }
                    }
                    Self::of_value(&meta, "metadata", "", custom)
                } else {
                    Self::of_value(value, key, "", custom)
                };
                if key != "metadata" || !child.is_empty() {
                    set.0.insert(format!("f:{key}"), child);
                }
            }
        }
        set
    }

    fn of_value(value: &Value, field: &str, parent: &str, custom: bool) -> Self {
        let path = format!("{parent}.{field}");
        match value {
            Value::Object(map) => {
                let mut set = Self::default();
                for (key, child) in map {
                    set.0
                        .insert(format!("f:{key}"), Self::of_value(child, key, &path, custom));
                }
                if !set.is_empty() {
                    set.0.insert(".".into(), Self::default());
                }
                set
            }
            Value::Array(items) => match list_kind(field, parent, custom) {
                ListKind::Map(keys) => {
                    let mut set = Self::default();
                    for item in items {
                        let mut child = Self::of_value(item, "[]", &path, custom);
                        child.0.insert(".".into(), Self::default());
                        set.0.insert(key_element(item, keys), child);
                    }
                    set
                }
                ListKind::Set => Self(
                    items
                        .iter()
                        .map(|item| (format!("v:{item}"), Self::default()))
                        .collect(),
                ),
                ListKind::Atomic => Self::default(),
            },
            _ => Self::default(),
        }
    }

    /// The set as an apply configuration owns it: a map or struct field is not itself a member
    /// (no `.`); only list items are (`k:{...}: {.: {}}`).
    #[must_use]
    pub fn without_map_dots(mut self) -> Self {
        self.strip_dots(false);
        self
    }

    fn strip_dots(&mut self, list_item: bool) {
        if !list_item {
            self.0.remove(".");
        }
        for (key, child) in &mut self.0 {
            let item = key.starts_with("k:") || key.starts_with("v:") || key.starts_with("i:");
            child.strip_dots(item);
        }
    }

    /// The `fieldsV1` JSON of this set.
    #[must_use]
    pub fn to_json(&self) -> Value {
        Value::Object(self.0.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
    }

    /// Reads a `fieldsV1` JSON object.
    #[must_use]
    pub fn from_json(value: &Value) -> Self {
        Self(
            value
                .as_object()
                .map(|m| m.iter().map(|(k, v)| (k.clone(), Self::from_json(v))).collect())
                .unwrap_or_default(),
        )
    }

    /// Fields in either set.
    #[must_use]
    pub fn union(&self, other: &Self) -> Self {
        let mut out = self.clone();
        for (k, v) in &other.0 {
            let merged = out.0.get(k).map_or_else(|| v.clone(), |mine| mine.union(v));
            out.0.insert(k.clone(), merged);
        }
        out
    }

    /// Leaves of `self` that are not in `other`.
    #[must_use]
    pub fn difference(&self, other: &Self) -> Self {
        let mut out = Self::default();
        for (k, v) in &self.0 {
            match other.0.get(k) {
                None => {
                    out.0.insert(k.clone(), v.clone());
                }
                Some(theirs) if !v.is_empty() => {
                    let rest = v.difference(theirs);
                    if !rest.is_empty() {
                        out.0.insert(k.clone(), rest);
                    }
                }
                Some(_) => {}
            }
        }
        out
    }

    /// Leaves in both sets.
    #[must_use]
    pub fn intersection(&self, other: &Self) -> Self {
        let mut out = Self::default();
        for (k, v) in &self.0 {
            if let Some(theirs) = other.0.get(k) {
                if v.is_empty() && theirs.is_empty() {
                    out.0.insert(k.clone(), Self::default());
                } else {
                    let common = v.intersection(theirs);
                    if !common.is_empty() {
                        out.0.insert(k.clone(), common);
                    }
                }
            }
        }
        out
    }

    /// Every leaf as a path of elements.
    #[must_use]
    pub fn leaves(&self) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        for (k, v) in &self.0 {
            if v.is_empty() {
                out.push(vec![k.clone()]);
            } else {
                for mut rest in v.leaves() {
                    rest.insert(0, k.clone());
                    out.push(rest);
                }
            }
        }
        out
    }
}

/// The value at a field path in an object, if present.
#[must_use]
pub fn value_at<'a>(obj: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut current = obj;
    for element in path {
        if element == "." {
            continue;
        }
        current = step(current, element)?;
    }
    Some(current)
}

fn step<'a>(value: &'a Value, element: &str) -> Option<&'a Value> {
    match crds::fields_v1::parse(element)? {
        crds::fields_v1::Element::Field(field) => value.get(field),
        // Apply paths never name items by index.
        crds::fields_v1::Element::Index(_) => None,
        parsed => {
            let items = value.as_array()?;
            items.get(parsed.position(items, super::lists::key_value)?)
        }
    }
}

/// Removes the field at a path (a map key, or a list item); returns whether something was removed.
pub fn remove_at(obj: &mut Value, path: &[String]) -> bool {
    let path: Vec<&String> = path.iter().filter(|e| *e != ".").collect();
    let Some((last, parents)) = path.split_last() else {
        return false;
    };
    let mut current = obj;
    for element in parents {
        let next = if let Some(field) = element.strip_prefix("f:") {
            current.get_mut(field)
        } else {
            let Some(idx) = current.as_array().and_then(|items| index_of(items, element)) else {
                return false;
            };
            current.get_mut(idx)
        };
        let Some(next) = next else { return false };
        current = next;
    }
    if let Some(field) = last.strip_prefix("f:") {
        return current.as_object_mut().and_then(|m| m.remove(field)).is_some();
    }
    if let Some(items) = current.as_array_mut()
        && let Some(idx) = index_of(items, last)
    {
        items.remove(idx);
        return true;
    }
    false
}

fn index_of(items: &[Value], element: &str) -> Option<usize> {
    match crds::fields_v1::parse(element)? {
        crds::fields_v1::Element::Index(_) => None,
        parsed => parsed.position(items, super::lists::key_value),
    }
}

/// Renders a path the way conflict messages show it: `.spec.containers[name="app"].image`.
#[must_use]
pub fn display_path(path: &[String]) -> String {
    let mut out = String::new();
    for element in path {
        if let Some(field) = element.strip_prefix("f:") {
            out.push('.');
            out.push_str(field);
        } else if let Some(key) = element.strip_prefix("k:") {
            let parsed: Value = serde_json::from_str(key).unwrap_or_else(|_| json!({}));
            let parts: Vec<String> = parsed
                .as_object()
                .map(|m| m.iter().map(|(k, v)| format!("{k}={v}")).collect())
                .unwrap_or_default();
            out.push_str(&format!("[{}]", parts.join(",")));
        } else if let Some(value) = element.strip_prefix("v:") {
            out.push_str(&format!("[{value}]"));
        }
    }
    out
}
