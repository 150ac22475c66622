//! What kube-apiserver refuses to change on an update (`Validate<Kind>Update` in
//! `pkg/apis/*/validation`): immutable ConfigMaps and Secrets, workload selectors, a Job's
//! completions, a StatefulSet's spec beyond its mutable fields, a Service's cluster IPs.

use serde_json::Value;

use super::super::status::Cause;

const IMMUTABLE_WHEN_SET: &str = "Forbidden: field is immutable when `immutable` is set";

fn forbidden(field: &str, message: &str) -> Cause {
    Cause::new("FieldValueForbidden", field.to_owned(), message)
}

/// Go's `%#v` of a `metav1.LabelSelector` given as JSON.
fn go_selector(selector: &Value) -> String {
    let labels = selector.get("matchLabels").and_then(Value::as_object);
    let labels = match labels {
        Some(map) => {
            let mut pairs: Vec<String> = map
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{}:{}",
                        Value::String(k.clone()),
                        Value::String(v.as_str().unwrap_or_default().to_owned())
                    )
                })
                .collect();
            pairs.sort();
            format!("map[string]string{{{}}}", pairs.join(", "))
        }
        None => "map[string]string(nil)".to_owned(),
    };
    let expressions = match selector.get("matchExpressions").and_then(Value::as_array) {
        Some(items) => {
            let items: Vec<String> = items
                .iter()
                .map(|e| {
                    let text = |k: &str| Value::String(e[k].as_str().unwrap_or_default().to_owned()).to_string();
                    let values: Vec<String> = e["values"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|v| Value::String(v.as_str().unwrap_or_default().to_owned()).to_string())
                        .collect();
                    format!(
                        "v1.LabelSelectorRequirement{{Key:{}, Operator:{}, Values:[]string{{{}}}}}",
                        text("key"),
                        text("operator"),
                        values.join(", ")
                    )
                })
                .collect();
            format!("[]v1.LabelSelectorRequirement{{{}}}", items.join(", "))
        }
        None => "[]v1.LabelSelectorRequirement(nil)".to_owned(),
    };
    format!("v1.LabelSelector{{MatchLabels:{labels}, MatchExpressions:{expressions}}}")
}

fn immutable_selector(old: &Value, new: &Value, causes: &mut Vec<Cause>) {
    let (was, is) = (&old["spec"]["selector"], &new["spec"]["selector"]);
    if was != is {
        causes.push(Cause::new(
            "FieldValueInvalid",
            "spec.selector".to_owned(),
            format!("Invalid value: {}: field is immutable", go_selector(is)),
        ));
    }
}

/// The causes of refusing to turn `old` into `new` (empty when the update is allowed).
pub(super) fn validate(group: &str, plural: &str, old: &Value, new: &Value) -> Vec<Cause> {
    let mut causes = Vec::new();
    match (group, plural) {
        ("", kind @ ("configmaps" | "secrets")) if old["immutable"] == Value::Bool(true) => {
            if new["immutable"] != Value::Bool(true) {
                causes.push(forbidden("immutable", IMMUTABLE_WHEN_SET));
            }
            if old["data"] != new["data"] {
                causes.push(forbidden("data", IMMUTABLE_WHEN_SET));
            }
            if kind == "configmaps" && old["binaryData"] != new["binaryData"] {
                causes.push(forbidden("binaryData", IMMUTABLE_WHEN_SET));
            }
        }
        ("apps", "deployments" | "replicasets" | "daemonsets") => immutable_selector(old, new, &mut causes),
        ("apps", "statefulsets") => {
            let mutable = [
                "replicas",
                "template",
                "updateStrategy",
                "persistentVolumeClaimRetentionPolicy",
                "minReadySeconds",
                "ordinals",
            ];
            let rest = |v: &Value| {
                let mut spec = v["spec"].clone();
                if let Some(map) = spec.as_object_mut() {
                    for key in mutable {
                        map.remove(key);
                    }
                }
                spec
            };
            if rest(old) != rest(new) {
                causes.push(forbidden(
                    "spec",
                    "Forbidden: updates to statefulset spec for fields other than 'replicas', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
                ));
            }
        }
        ("batch", "jobs")
            if old["spec"]["completions"] != new["spec"]["completions"] && !new["spec"]["completions"].is_null() =>
        {
            causes.push(Cause::new(
                "FieldValueInvalid",
                "spec.completions".to_owned(),
                format!("Invalid value: {}: field is immutable", new["spec"]["completions"]),
            ));
        }
        ("", "services") => {
            let ips = |v: &Value| v["spec"]["clusterIPs"].clone();
            let was = ips(old);
            if was.as_array().is_some_and(|a| !a.is_empty()) && was != ips(new) && !ips(new).is_null() {
                let list: Vec<String> = ips(new)
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|ip| Value::String(ip.as_str().unwrap_or_default().to_owned()).to_string())
                    .collect();
                causes.push(Cause::new(
                    "FieldValueInvalid",
                    "spec.clusterIPs[0]".to_owned(),
                    format!(
                        "Invalid value: []string{{{}}}: may not change once set",
                        list.join(", ")
                    ),
                ));
            }
        }
        _ => {}
    }
    causes
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn selectors_print_as_go_does() {
        assert_eq!(
            go_selector(&json!({"matchLabels": {"tier": "front", "app": "web"}})),
            "v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"web\", \"tier\":\"front\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}"
        );
    }

    #[test]
    fn an_immutable_config_map_keeps_its_data() {
        let old = json!({"immutable": true, "data": {"a": "1"}});
        let changed = json!({"immutable": true, "data": {"a": "2"}});
        assert_eq!(validate("", "configmaps", &old, &changed)[0].field, "data");
        let labelled = json!({"immutable": true, "data": {"a": "1"}, "metadata": {"labels": {"x": "y"}}});
        assert!(validate("", "configmaps", &old, &labelled).is_empty());
    }
}
