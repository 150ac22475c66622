//! RBAC authorization as kube-apiserver's RBAC authorizer decides it: the rules of the Roles and
//! ClusterRoles bound to the user, its groups or its ServiceAccount by RoleBindings (in the
//! request's namespace) and ClusterRoleBindings (everywhere); `system:masters` may do everything.
//! Aggregated ClusterRoles (`aggregationRule`) are not aggregated.

use serde_json::Value;

use super::super::objects::strings;

use super::super::store::Store;
use super::attributes::Attributes;
use super::user::UserInfo;

const GROUP: &str = "rbac.authorization.k8s.io";

fn list(store: &Store, plural: &str, namespace: Option<&str>) -> Vec<Value> {
    store
        .registry
        .find(GROUP, "v1", plural)
        .map(|rt| store.list(rt, namespace))
        .unwrap_or_default()
}

/// Whether a binding's subject is the user (one of its groups, or its ServiceAccount).
fn names_user(subject: &Value, binding_namespace: &str, user: &UserInfo) -> bool {
    let name = subject.get("name").and_then(Value::as_str).unwrap_or_default();
    match subject.get("kind").and_then(Value::as_str) {
        Some("User") => user.username == name,
        Some("Group") => user.groups.iter().any(|g| g == name),
        Some("ServiceAccount") => {
            let ns = subject
                .get("namespace")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
                .unwrap_or(binding_namespace);
            user.username == format!("system:serviceaccount:{ns}:{name}")
        }
        _ => false,
    }
}

/// The rules of the role a binding refers to (a Role of the binding's namespace, or a ClusterRole).
fn role_rules(store: &Store, binding: &Value, namespace: &str) -> Vec<Value> {
    let role_ref = binding.get("roleRef").cloned().unwrap_or(Value::Null);
    let name = role_ref.get("name").and_then(Value::as_str).unwrap_or_default();
    let (plural, ns) = match role_ref.get("kind").and_then(Value::as_str) {
        Some("Role") => ("roles", namespace),
        _ => ("clusterroles", ""),
    };
    store
        .registry
        .find(GROUP, "v1", plural)
        .and_then(|rt| store.get(rt, ns, name).ok())
        .and_then(|role| role.get("rules").and_then(Value::as_array).cloned())
        .unwrap_or_default()
}

fn covers(listed: &[String], wanted: &str) -> bool {
    listed.iter().any(|l| l == "*" || l == wanted)
}

/// Whether one rule allows the request.
#[must_use]
pub fn rule_allows(rule: &Value, attributes: &Attributes) -> bool {
    match attributes {
        Attributes::Resource {
            verb,
            group,
            resource,
            subresource,
            name,
            ..
        } => {
            let resources = strings(rule, "resources");
            let resource_ok = match subresource {
                Some(sub) => resources
                    .iter()
                    .any(|r| r == "*" || *r == format!("{resource}/{sub}") || *r == format!("*/{sub}")),
                None => covers(&resources, resource),
            };
            let names = strings(rule, "resourceNames");
            let name_ok = names.is_empty() || name.as_ref().is_some_and(|n| names.contains(n));
            covers(&strings(rule, "verbs"), verb)
                && covers(&strings(rule, "apiGroups"), group)
                && resource_ok
                && name_ok
        }
        Attributes::Path { verb, path } => {
            let urls = strings(rule, "nonResourceURLs");
            let path_ok = urls.iter().any(|u| match u.strip_suffix('*') {
                Some(prefix) => path.starts_with(prefix),
                None => u == path,
            });
            covers(&strings(rule, "verbs"), verb) && path_ok
        }
    }
}

/// Whether RBAC lets `user` do what `attributes` ask.
#[must_use]
pub fn allows(store: &Store, user: &UserInfo, attributes: &Attributes) -> bool {
    if user.is_master() {
        return true;
    }
    let mut rules = Vec::new();
    for binding in list(store, "clusterrolebindings", None) {
        let subjects = binding
            .get("subjects")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if subjects.iter().any(|s| names_user(s, "", user)) {
            rules.extend(role_rules(store, &binding, ""));
        }
    }
    if let Attributes::Resource {
        namespace: Some(ns), ..
    } = attributes
    {
        for binding in list(store, "rolebindings", Some(ns)) {
            let subjects = binding
                .get("subjects")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if subjects.iter().any(|s| names_user(s, ns, user)) {
                rules.extend(role_rules(store, &binding, ns));
            }
        }
    }
    rules.iter().any(|rule| rule_allows(rule, attributes))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn resource(verb: &str, group: &str, resource: &str, sub: Option<&str>, name: Option<&str>) -> Attributes {
        Attributes::Resource {
            verb: verb.into(),
            group: group.into(),
            resource: resource.into(),
            subresource: sub.map(Into::into),
            namespace: Some("shop".into()),
            name: name.map(Into::into),
        }
    }

    #[test]
    fn rules_match_verbs_groups_resources_subresources_and_names() {
        let rule = json!({"verbs": ["get", "patch"], "apiGroups": ["argoproj.io"], "resources": ["rollouts", "rollouts/status"]});
        assert!(rule_allows(
            &rule,
            &resource("patch", "argoproj.io", "rollouts", Some("status"), Some("api"))
        ));
        assert!(rule_allows(
            &rule,
            &resource("get", "argoproj.io", "rollouts", None, None)
        ));
        assert!(!rule_allows(
            &rule,
            &resource("delete", "argoproj.io", "rollouts", None, Some("api"))
        ));
        assert!(!rule_allows(&rule, &resource("get", "", "rollouts", None, None)));
        assert!(!rule_allows(
            &rule,
            &resource("get", "argoproj.io", "rollouts", Some("scale"), None)
        ));
        let scale = json!({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*/scale"]});
        assert!(rule_allows(
            &scale,
            &resource("update", "apps", "deployments", Some("scale"), None)
        ));
        let named = json!({"verbs": ["get"], "apiGroups": [""], "resources": ["secrets"], "resourceNames": ["repo"]});
        assert!(rule_allows(&named, &resource("get", "", "secrets", None, Some("repo"))));
        assert!(!rule_allows(
            &named,
            &resource("get", "", "secrets", None, Some("other"))
        ));
        assert!(
            !rule_allows(&named, &resource("get", "", "secrets", None, None)),
            "a list is not a named get"
        );
        let urls = json!({"verbs": ["get"], "nonResourceURLs": ["/apis/*", "/version"]});
        let path = |p: &str| Attributes::Path {
            verb: "get".into(),
            path: p.into(),
        };
        assert!(rule_allows(&urls, &path("/apis/apps/v1")));
        assert!(rule_allows(&urls, &path("/version")));
        assert!(!rule_allows(&urls, &path("/metrics")));
    }

    #[test]
    fn denials_are_worded_as_kube_apiserver_words_them() {
        let user = UserInfo::service_account("shop", "reader", "u");
        let error = resource("patch", "argoproj.io", "rollouts", Some("status"), Some("api")).denied(&user);
        assert_eq!(error.code, 403);
        assert_eq!(
            error.message,
            "rollouts.argoproj.io \"api\" is forbidden: User \"system:serviceaccount:shop:reader\" cannot patch resource \"rollouts/status\" in API group \"argoproj.io\" in the namespace \"shop\""
        );
        let cluster = Attributes::Resource {
            verb: "list".into(),
            group: String::new(),
            resource: "nodes".into(),
            subresource: None,
            namespace: None,
            name: None,
        };
        assert_eq!(
            cluster.denied(&user).message,
            "nodes is forbidden: User \"system:serviceaccount:shop:reader\" cannot list resource \"nodes\" in API group \"\" at the cluster scope"
        );
    }
}
