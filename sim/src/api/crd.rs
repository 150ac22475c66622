//! Serving custom resources: a CustomResourceDefinition object becomes a served resource type.

use serde_json::{Value, json};

use super::resources::{ResourceType, ScalePaths};

/// The resource type a CRD declares (its storage version, or the first served one).
#[must_use]
pub fn resource_type(crd: &Value) -> Option<ResourceType> {
    let spec = crd.get("spec")?;
    let names = spec.get("names")?;
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let strings = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default()
    };
    let versions = spec.get("versions")?.as_array()?;
    let served: Vec<&Value> = versions
        .iter()
        .filter(|v| v.get("served").and_then(Value::as_bool).unwrap_or(true))
        .collect();
    let version = served
        .iter()
        .find(|v| v.get("storage").and_then(Value::as_bool).unwrap_or(false))
        .or_else(|| served.first())?;
    let kind = s(names, "kind")?;
    let subresources = version.get("subresources");
    let scale = subresources.and_then(|sub| sub.get("scale")).map(|scale| ScalePaths {
        spec_replicas: s(scale, "specReplicasPath").unwrap_or_else(|| ".spec.replicas".into()),
        status_replicas: s(scale, "statusReplicasPath").unwrap_or_else(|| ".status.replicas".into()),
        label_selector: s(scale, "labelSelectorPath"),
    });
    Some(ResourceType {
        group: s(spec, "group")?,
        version: s(version, "name")?,
        plural: s(names, "plural")?,
        singular: s(names, "singular").unwrap_or_else(|| kind.to_lowercase()),
        kind,
        namespaced: spec.get("scope").and_then(Value::as_str) != Some("Cluster"),
        short_names: strings(names.get("shortNames")),
        categories: strings(names.get("categories")),
        status_subresource: subresources.and_then(|sub| sub.get("status")).is_some(),
        scale,
        printer_columns: version
            .get("additionalPrinterColumns")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        schema: version
            .pointer("/schema/openAPIV3Schema")
            .cloned()
            .map(std::sync::Arc::new),
        custom: true,
    })
}

/// The status the API server gives an accepted CRD.
#[must_use]
pub fn accepted_status(crd: &Value, now: &str) -> Value {
    let condition = |kind: &str, reason: &str, message: &str| json!({"type": kind, "status": "True", "lastTransitionTime": now, "reason": reason, "message": message});
    let names = crd.pointer("/spec/names").cloned().unwrap_or_else(|| json!({}));
    let stored: Vec<Value> = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .map(|vs| {
            vs.iter()
                .filter(|v| v.get("storage") == Some(&json!(true)))
                .filter_map(|v| v.get("name").cloned())
                .collect()
        })
        .unwrap_or_default();
    json!({
        "acceptedNames": names,
        "conditions": [
            condition("NamesAccepted", "NoConflicts", "no conflicts found"),
            condition("Established", "InitialNamesAccepted", "the initial names have been accepted"),
        ],
        "storedVersions": stored,
    })
}
