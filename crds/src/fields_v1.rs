//! One element of a `fieldsV1` path (structured-merge-diff's field set, as `managedFields` carry
//! it), read the one way Sluice's diff and the simulator's server-side apply both read it:
//! `f:<name>` a map field, `k:{...}` an associative-list item by its keys, `v:<json>` a set item
//! by value, `i:<n>` a list item by index, `.` the node itself.

use serde_json::{Map, Value};

/// A parsed path element.
#[derive(Clone, Debug, PartialEq)]
pub enum Element<'a> {
    /// `f:<name>`: the map field `name`.
    Field(&'a str),
    /// `k:{...}`: the list item whose keys have these values.
    Key(Map<String, Value>),
    /// `v:<json>`: the set item equal to this value.
    Value(Value),
    /// `i:<n>`: the list item at this index.
    Index(usize),
    /// `.`: the node itself.
    Itself,
}

/// Parses `element`; `None` when it is none of the forms above (or its JSON does not parse).
#[must_use]
pub fn parse(element: &str) -> Option<Element<'_>> {
    if element == "." {
        return Some(Element::Itself);
    }
    if let Some(name) = element.strip_prefix("f:") {
        return Some(Element::Field(name));
    }
    if let Some(keys) = element.strip_prefix("k:") {
        return serde_json::from_str(keys).ok().map(Element::Key);
    }
    if let Some(value) = element.strip_prefix("v:") {
        return serde_json::from_str(value).ok().map(Element::Value);
    }
    element.strip_prefix("i:")?.parse().ok().map(Element::Index)
}

impl Element<'_> {
    /// The position in `items` of the list item this element names; `key_of(item, key)` reads an
    /// item's key (the simulator fills in the defaults kube-apiserver would, the diff reads it
    /// as stored). `None` for map fields, `.`, and items not found.
    pub fn position(&self, items: &[Value], key_of: impl Fn(&Value, &str) -> Option<Value>) -> Option<usize> {
        match self {
            Self::Key(keys) => items
                .iter()
                .position(|item| keys.iter().all(|(k, v)| key_of(item, k).as_ref() == Some(v))),
            Self::Value(value) => items.iter().position(|item| item == value),
            Self::Index(i) => (*i < items.len()).then_some(*i),
            Self::Field(_) | Self::Itself => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_form_parses_and_finds_its_item() {
        let items = vec![json!({"name": "a", "port": 80}), json!("x"), json!({"name": "b"})];
        let get = |item: &Value, key: &str| item.get(key).cloned();
        assert_eq!(parse("f:spec"), Some(Element::Field("spec")));
        assert_eq!(parse("."), Some(Element::Itself));
        assert_eq!(
            parse(r#"k:{"name":"b"}"#).and_then(|e| e.position(&items, get)),
            Some(2)
        );
        assert_eq!(parse(r#"v:"x""#).and_then(|e| e.position(&items, get)), Some(1));
        assert_eq!(parse("i:0").and_then(|e| e.position(&items, get)), Some(0));
        assert_eq!(parse("i:9").and_then(|e| e.position(&items, get)), None);
        assert_eq!(parse("k:{broken"), None);
        assert_eq!(parse("q:1"), None);
    }
}
