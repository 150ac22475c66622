//! Computing RFC 7386 JSON merge patches: the status writers send only what changed, so an idle
//! object costs no write and a concurrent writer's fields are left alone. Written by hand because
//! the `json-patch` crate applies merge patches but only computes RFC 6902 (JSON Patch) diffs.

use serde_json::{Map, Value};

/// The merge patch turning `old` into `new`: changed keys with their new value, removed keys as
/// `null`; `None` when they are equal.
#[must_use]
pub fn diff(old: &Value, new: &Value) -> Option<Value> {
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => {
            let mut patch = Map::new();
            for (key, value) in n {
                match o.get(key) {
                    Some(before) => {
                        if let Some(changed) = diff(before, value) {
                            patch.insert(key.clone(), changed);
                        }
                    }
                    None => {
                        patch.insert(key.clone(), value.clone());
                    }
                }
            }
            for key in o.keys().filter(|k| !n.contains_key(*k)) {
                patch.insert(key.clone(), Value::Null);
            }
            (!patch.is_empty()).then_some(Value::Object(patch))
        }
        (o, n) if o == n => None,
        (_, n) => Some(n.clone()),
    }
}

/// Whether every field of `wanted` is in `live` with the same value (lists item by item, of the
/// same length); fields only `live` has (set by the server or others) do not matter.
#[must_use]
pub fn covers(live: &Value, wanted: &Value) -> bool {
    match (live, wanted) {
        (Value::Object(l), Value::Object(w)) => w.iter().all(|(k, v)| l.get(k).is_some_and(|lv| covers(lv, v))),
        (Value::Array(l), Value::Array(w)) => l.len() == w.len() && l.iter().zip(w).all(|(a, b)| covers(a, b)),
        _ => live == wanted,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::diff;

    #[test]
    fn patches_carry_only_changes_and_nulls_for_removals() {
        let old =
            json!({"sync": {"status": "Synced", "revision": "a"}, "operationState": {"finishedAt": "t"}, "list": [1]});
        let new = json!({"sync": {"status": "OutOfSync", "revision": "a"}, "operationState": {}, "list": [1, 2]});
        assert_eq!(
            diff(&old, &new),
            Some(json!({"sync": {"status": "OutOfSync"}, "operationState": {"finishedAt": null}, "list": [1, 2]}))
        );
        assert_eq!(diff(&old, &old), None);
    }
}
