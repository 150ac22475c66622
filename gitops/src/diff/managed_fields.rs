//! `managedFieldsManagers`: the fields a named manager owns (its `fieldsV1` set in the live
//! object's `managedFields`) are left out of the comparison, as Argo CD's
//! `managedfields.Normalize` does. `fieldsV1` is the structured-merge-diff field set: `f:name`
//! a field, `k:{...}` a list item by its keys, `v:...` a set item by value, `i:n` an index, and
//! `.` the node itself.

use serde_json::{Map, Value};

/// The field sets `managers` own in `live`.
#[must_use]
pub fn owned_by<'a>(live: &'a Value, managers: &[String]) -> Vec<&'a Value> {
    live.pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .map(|entries| {
            entries
                .iter()
                .filter(|e| {
                    e.get("manager")
                        .and_then(Value::as_str)
                        .is_some_and(|m| managers.iter().any(|x| x == m))
                })
                .filter_map(|e| e.get("fieldsV1"))
                .collect()
        })
        .unwrap_or_default()
}

/// Removes from `object` every field in the set `fields`.
pub fn remove(object: &mut Value, fields: &Value) {
    let Some(set) = fields.as_object() else { return };
    match object {
        Value::Object(map) => remove_from_object(map, set),
        Value::Array(items) => remove_from_array(items, set),
        _ => {}
    }
}

fn is_leaf(set: &Map<String, Value>) -> bool {
    set.is_empty() || (set.len() == 1 && set.contains_key("."))
}

fn remove_from_object(map: &mut Map<String, Value>, set: &Map<String, Value>) {
    for (key, sub) in set {
        let Some(crds::fields_v1::Element::Field(name)) = crds::fields_v1::parse(key) else {
            continue;
        };
        let sub_set = sub.as_object().cloned().unwrap_or_default();
        if is_leaf(&sub_set) {
            map.remove(name);
        } else if let Some(child) = map.get_mut(name) {
            remove(child, sub);
        }
    }
}

fn remove_from_array(items: &mut Vec<Value>, set: &Map<String, Value>) {
    let mut drop = vec![false; items.len()];
    for (key, sub) in set {
        let sub_set = sub.as_object().cloned().unwrap_or_default();
        let position = crds::fields_v1::parse(key).and_then(|e| e.position(items, |item, k| item.get(k).cloned()));
        let Some(i) = position else { continue };
        // A list item the manager owns (`.`) goes whole: the container an injector added.
        if sub_set.is_empty() || sub_set.contains_key(".") || key.starts_with("v:") {
            drop[i] = true;
        } else {
            remove(&mut items[i], sub);
        }
    }
    let mut index = 0;
    items.retain(|_| {
        let keep = !drop[index];
        index += 1;
        keep
    });
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn removes_fields_items_and_nested_fields_a_manager_owns() {
        let live = json!({
            "metadata": {"managedFields": [
                {"manager": "hpa", "fieldsV1": {"f:spec": {"f:replicas": {}}}},
                {"manager": "injector", "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"proxy\"}": {".": {}, "f:image": {}}}}}}}},
                {"manager": "sluice", "fieldsV1": {"f:spec": {"f:paused": {}}}}
            ]},
            "spec": {"replicas": 7, "paused": false, "template": {"spec": {"containers": [{"name": "app"}, {"name": "proxy", "image": "p"}]}}}
        });
        let mut object = live.clone();
        for set in owned_by(&live, &["hpa".into(), "injector".into()]) {
            remove(&mut object, set);
        }
        assert_eq!(
            object["spec"],
            json!({"paused": false, "template": {"spec": {"containers": [{"name": "app"}]}}})
        );
    }
}
