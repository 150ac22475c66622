//! Which webhooks a request reaches, as kube-apiserver's webhook dispatcher decides: `rules`
//! (operations, apiGroups, apiVersions, resources with `*`, `*/*` and `x/*`, scope), then
//! `namespaceSelector` (the namespace's labels) and `objectSelector` (the object's or the old
//! object's labels).

use std::collections::BTreeMap;

use serde_json::Value;

use super::super::objects::strings;

/// What the rules look at in a request.
#[derive(Clone, Debug)]
pub struct Match<'a> {
    /// `CREATE`, `UPDATE` or `DELETE`.
    pub operation: &'a str,
    /// API group.
    pub group: &'a str,
    /// Version.
    pub version: &'a str,
    /// Plural resource.
    pub resource: &'a str,
    /// Subresource, if any.
    pub subresource: Option<&'a str>,
    /// Whether the resource is namespaced.
    pub namespaced: bool,
    /// The labels of the request's namespace (for namespaced objects).
    pub namespace_labels: Option<BTreeMap<String, String>>,
    /// The labels of the object and of the old object.
    pub object_labels: Vec<BTreeMap<String, String>>,
}

fn any(list: &[String], wanted: &str) -> bool {
    list.iter().any(|l| l == "*" || l == wanted)
}

fn resource_matches(listed: &[String], resource: &str, subresource: Option<&str>) -> bool {
    listed.iter().any(|r| {
        let (res, sub) = r.split_once('/').map_or((r.as_str(), None), |(a, b)| (a, Some(b)));
        let res_ok = res == "*" || res == resource;
        match (sub, subresource) {
            (None, None) => res_ok,
            (Some(s), Some(want)) => res_ok && (s == "*" || s == want),
            _ => false,
        }
    })
}

/// Whether one rule of a webhook covers the request.
#[must_use]
pub fn rule_matches(rule: &Value, request: &Match<'_>) -> bool {
    let scope = rule.get("scope").and_then(Value::as_str).unwrap_or("*");
    let scope_ok = match scope {
        "Cluster" => !request.namespaced,
        "Namespaced" => request.namespaced,
        _ => true,
    };
    scope_ok
        && any(&strings(rule, "operations"), request.operation)
        && any(&strings(rule, "apiGroups"), request.group)
        && any(&strings(rule, "apiVersions"), request.version)
        && resource_matches(&strings(rule, "resources"), request.resource, request.subresource)
}

/// A label selector (`matchLabels`, `matchExpressions`) against labels; no selector matches all.
fn selects(selector: Option<&Value>, labels: &BTreeMap<String, String>) -> bool {
    let Some(selector) = selector else { return true };
    let Ok(parsed) =
        serde_json::from_value::<k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector>(selector.clone())
    else {
        return false;
    };
    crds::meta::selector_matches(&parsed, labels).unwrap_or(false)
}

/// Whether the webhook is called for the request.
#[must_use]
pub fn webhook_matches(webhook: &Value, request: &Match<'_>) -> bool {
    let rules = webhook
        .get("rules")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if !rules.iter().any(|r| rule_matches(r, request)) {
        return false;
    }
    let namespace_ok = match &request.namespace_labels {
        Some(labels) => selects(webhook.get("namespaceSelector"), labels),
        None => true,
    };
    let object_ok = request.object_labels.is_empty()
        || request
            .object_labels
            .iter()
            .any(|labels| selects(webhook.get("objectSelector"), labels));
    namespace_ok && object_ok
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn request<'a>(operation: &'a str, resource: &'a str, subresource: Option<&'a str>) -> Match<'a> {
        Match {
            operation,
            group: "apps",
            version: "v1",
            resource,
            subresource,
            namespaced: true,
            namespace_labels: Some(BTreeMap::from([("istio-injection".to_owned(), "enabled".to_owned())])),
            object_labels: vec![BTreeMap::from([("app".to_owned(), "web".to_owned())])],
        }
    }

    #[test]
    fn rules_match_operations_groups_versions_resources_and_scope() {
        let rule = json!({"operations": ["CREATE", "UPDATE"], "apiGroups": ["apps"], "apiVersions": ["v1"], "resources": ["deployments"]});
        assert!(rule_matches(&rule, &request("CREATE", "deployments", None)));
        assert!(!rule_matches(&rule, &request("DELETE", "deployments", None)));
        assert!(!rule_matches(&rule, &request("CREATE", "statefulsets", None)));
        assert!(!rule_matches(&rule, &request("CREATE", "deployments", Some("scale"))));
        let star = json!({"operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*"]});
        assert!(rule_matches(&star, &request("DELETE", "deployments", None)));
        assert!(
            !rule_matches(&star, &request("UPDATE", "deployments", Some("status"))),
            "* leaves subresources out"
        );
        let all = json!({"operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*/*"]});
        assert!(rule_matches(&all, &request("UPDATE", "deployments", Some("status"))));
        let cluster = json!({"operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*"], "scope": "Cluster"});
        assert!(!rule_matches(&cluster, &request("CREATE", "deployments", None)));
    }

    #[test]
    fn selectors_narrow_the_webhook() {
        let hook = |ns: Value, obj: Value| {
            json!({"rules": [{"operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*"]}],
                "namespaceSelector": ns, "objectSelector": obj})
        };
        let r = request("CREATE", "deployments", None);
        assert!(webhook_matches(
            &hook(json!({"matchLabels": {"istio-injection": "enabled"}}), json!({})),
            &r
        ));
        assert!(!webhook_matches(
            &hook(json!({"matchLabels": {"istio-injection": "disabled"}}), json!({})),
            &r
        ));
        assert!(!webhook_matches(
            &hook(
                json!({}),
                json!({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]})
            ),
            &r
        ));
    }
}
