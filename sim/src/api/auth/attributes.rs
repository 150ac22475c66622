//! What a request asks to do, in the authorizer's terms (kube-apiserver's
//! `authorizer.Attributes`): a verb on a resource (group, resource, subresource, namespace, name),
//! or a verb on a path that is not a resource.

use axum::http::Method;

use super::super::path::{Route, Target};
use super::super::status::ApiError;
use super::user::UserInfo;

/// A request as the authorizer sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attributes {
    /// A verb on a resource.
    Resource {
        /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`,
        /// `impersonate`...
        verb: String,
        /// API group (`""` for core).
        group: String,
        /// Plural resource name.
        resource: String,
        /// Subresource (`status`, `eviction`...), if any.
        subresource: Option<String>,
        /// Namespace (`None` at the cluster scope).
        namespace: Option<String>,
        /// Object name (`None` for a collection).
        name: Option<String>,
    },
    /// A verb on a path that is not a resource (`/apis`, `/version`, `/healthz`).
    Path {
        /// Lower-case HTTP method (`get`).
        verb: String,
        /// The path.
        path: String,
    },
}

impl Attributes {
    /// The attributes of a request for `target` with `method` (`watch` for a watch list).
    #[must_use]
    pub fn of_target(method: &Method, target: &Target, watch: bool) -> Self {
        let named = target.name.is_some();
        let verb = match (method.as_str(), named) {
            ("GET", true) => "get",
            ("GET", false) if watch => "watch",
            ("GET", false) => "list",
            ("POST", _) => "create",
            ("PUT", _) => "update",
            ("PATCH", _) => "patch",
            ("DELETE", true) => "delete",
            ("DELETE", false) => "deletecollection",
            (other, _) => return Self::path(other, ""),
        };
        Self::Resource {
            verb: verb.into(),
            group: target.rt.group.clone(),
            resource: target.rt.plural.clone(),
            subresource: target.subresource.clone(),
            namespace: target.namespace.clone(),
            name: target.name.clone(),
        }
    }

    /// The attributes of a request on a route that is not a resource.
    #[must_use]
    pub fn of_route(method: &Method, route: &Route, path: &str, watch: bool) -> Self {
        match route {
            Route::Resource(target) => Self::of_target(method, target, watch),
            _ => Self::path(method.as_str(), path),
        }
    }

    fn path(method: &str, path: &str) -> Self {
        Self::Path {
            verb: method.to_lowercase(),
            path: path.to_owned(),
        }
    }

    /// The 403 kube-apiserver answers when the authorizer refuses `user` this request.
    #[must_use]
    pub fn denied(&self, user: &UserInfo) -> ApiError {
        match self {
            Self::Resource {
                verb,
                group,
                resource,
                subresource,
                namespace,
                name,
            } => {
                let shown = match subresource {
                    Some(sub) => format!("{resource}/{sub}"),
                    None => resource.clone(),
                };
                let scope = match namespace {
                    Some(ns) => format!("in the namespace \"{ns}\""),
                    None => "at the cluster scope".to_owned(),
                };
                let reason = format!(
                    "User \"{}\" cannot {verb} resource \"{shown}\" in API group \"{group}\" {scope}",
                    user.username
                );
                ApiError::forbidden(group, resource, name.as_deref().unwrap_or_default(), &reason)
            }
            Self::Path { verb, path } => {
                let reason = format!("User \"{}\" cannot {verb} path \"{path}\"", user.username);
                ApiError::forbidden("", "", "", &reason)
            }
        }
    }
}
