//! Authentication and authorization, off unless the simulator is started with them (`sluice sim
//! --authz`, [`crate::Sim::start_with`]): bearer tokens name users ([`tokens`]), impersonation
//! headers switch user for those allowed to `impersonate`, and RBAC ([`rbac`]) decides, with
//! kube-apiserver's 401 and 403 Status bodies. The bootstrap ClusterRoles every cluster has for
//! discovery and self-reviews (`system:discovery`, `system:basic-user`) and `cluster-admin` are
//! created at start.

pub mod attributes;
pub mod rbac;
pub(crate) mod reviews;
pub mod tokens;
pub mod user;

use axum::http::HeaderMap;
use serde_json::json;

pub use attributes::Attributes;
pub use tokens::{ADMIN_TOKEN, Tokens};
pub use user::UserInfo;

use super::status::ApiError;
use super::store::Store;

/// Whether and how requests are authenticated and authorized.
#[derive(Debug)]
pub struct Auth {
    /// Check credentials and RBAC (off: every request acts as an administrator).
    pub enabled: bool,
    /// Known tokens.
    pub tokens: Tokens,
}

impl Default for Auth {
    fn default() -> Self {
        Self {
            enabled: false,
            tokens: Tokens::new(Vec::new()),
        }
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl Auth {
    /// The user a request acts as: its token's user, or the user it impersonates.
    ///
    /// # Errors
    /// 401 without a known token; 403 when the user may not impersonate whom it asks for.
    pub fn authenticate(&self, headers: &HeaderMap, store: &Store) -> Result<UserInfo, ApiError> {
        if !self.enabled {
            return Ok(UserInfo::admin());
        }
        let user = bearer(headers)
            .and_then(|t| self.tokens.user(t))
            .ok_or_else(ApiError::unauthorized)?;
        impersonated(headers, store, user)
    }

    /// Refuses what RBAC does not allow.
    ///
    /// # Errors
    /// 403 with kube-apiserver's message.
    pub fn authorize(&self, store: &Store, user: &UserInfo, attributes: &Attributes) -> Result<(), ApiError> {
        if !self.enabled || rbac::allows(store, user, attributes) {
            Ok(())
        } else {
            Err(attributes.denied(user))
        }
    }
}

/// `Impersonate-User` / `Impersonate-Group`: the requester acts as another user when RBAC lets it
/// `impersonate` that user (or ServiceAccount) and each group.
fn impersonated(headers: &HeaderMap, store: &Store, requester: UserInfo) -> Result<UserInfo, ApiError> {
    let Some(target) = headers.get("impersonate-user").and_then(|v| v.to_str().ok()) else {
        return Ok(requester);
    };
    let groups: Vec<String> = headers
        .get_all("impersonate-group")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_owned)
        .collect();
    let ask = |resource: &str, namespace: Option<&str>, name: &str| Attributes::Resource {
        verb: "impersonate".into(),
        group: String::new(),
        resource: resource.into(),
        subresource: None,
        namespace: namespace.map(str::to_owned),
        name: Some(name.to_owned()),
    };
    let user_check = match target
        .strip_prefix("system:serviceaccount:")
        .and_then(|r| r.split_once(':'))
    {
        Some((ns, name)) => ask("serviceaccounts", Some(ns), name),
        None => ask("users", None, target),
    };
    for check in std::iter::once(user_check).chain(groups.iter().map(|g| ask("groups", None, g))) {
        if !rbac::allows(store, &requester, &check) {
            return Err(check.denied(&requester));
        }
    }
    Ok(UserInfo::new(target, "", &groups))
}

/// The bootstrap RBAC objects every cluster starts with (a subset of kube-apiserver's bootstrap
/// policy): discovery and self-reviews for every authenticated user, and `cluster-admin`.
#[must_use]
pub fn bootstrap_objects() -> Vec<(&'static str, serde_json::Value)> {
    let role = |name: &str, rules: serde_json::Value| {
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": name, "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"}}, "rules": rules})
    };
    let binding = |name: &str, role: &str, group: &str| {
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": name, "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"}},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group}]})
    };
    vec![
        (
            "clusterroles",
            role(
                "cluster-admin",
                json!([{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}, {"nonResourceURLs": ["*"], "verbs": ["*"]}]),
            ),
        ),
        (
            "clusterroles",
            role(
                "system:discovery",
                json!([{"nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/"], "verbs": ["get"]}]),
            ),
        ),
        (
            "clusterroles",
            role(
                "system:basic-user",
                json!([{"apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"], "verbs": ["create"]}]),
            ),
        ),
        (
            "clusterrolebindings",
            binding("cluster-admin", "cluster-admin", user::MASTERS),
        ),
        (
            "clusterrolebindings",
            binding("system:discovery", "system:discovery", user::AUTHENTICATED),
        ),
        (
            "clusterrolebindings",
            binding("system:basic-user", "system:basic-user", user::AUTHENTICATED),
        ),
    ]
}
