//! Maps request paths to what they address.

use super::registry::Registry;
use super::resources::ResourceType;

/// What a request path addresses.
#[derive(Clone, Debug, PartialEq)]
pub enum Route {
    /// `/version`.
    Version,
    /// `/api`.
    CoreVersions,
    /// `/apis`.
    Groups,
    /// `/apis/{group}`.
    Group(String),
    /// `/api/v1` or `/apis/{group}/{version}`.
    GroupVersion(String, String),
    /// `/healthz`, `/readyz`, `/livez`.
    Health,
    /// Objects of a resource type.
    Resource(Box<Target>),
    /// `/openapi/v2` (older clients).
    OpenApiV2,
    /// `/openapi/v3`.
    OpenApiV3,
    /// `/openapi/v3/api/v1` or `/openapi/v3/apis/{group}/{version}`.
    OpenApiV3GroupVersion(String, String),
    /// Nothing served here.
    Unknown,
}

/// A resource, collection or subresource.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// The resource type.
    pub rt: ResourceType,
    /// Namespace from the path (None: cluster-scoped, or all namespaces).
    pub namespace: Option<String>,
    /// Object name (None: the collection).
    pub name: Option<String>,
    /// Subresource, e.g. `status`, `scale`, `eviction`.
    pub subresource: Option<String>,
}

fn decode(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

/// Parses a request path.
#[must_use]
pub fn parse(registry: &Registry, path: &str) -> Route {
    let segments: Vec<String> = path.split('/').filter(|s| !s.is_empty()).map(decode).collect();
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    match s.as_slice() {
        ["version"] => Route::Version,
        ["openapi", "v2"] => Route::OpenApiV2,
        ["openapi", "v3"] => Route::OpenApiV3,
        ["openapi", "v3", "api", version] => Route::OpenApiV3GroupVersion(String::new(), (*version).to_owned()),
        ["openapi", "v3", "apis", group, version] => {
            Route::OpenApiV3GroupVersion((*group).to_owned(), (*version).to_owned())
        }
        ["healthz" | "readyz" | "livez", ..] => Route::Health,
        ["api"] => Route::CoreVersions,
        ["api", "v1"] => Route::GroupVersion(String::new(), "v1".into()),
        ["api", "v1", rest @ ..] => resource(registry, "", "v1", rest),
        ["apis"] => Route::Groups,
        ["apis", group] => Route::Group((*group).to_owned()),
        ["apis", group, version] => Route::GroupVersion((*group).to_owned(), (*version).to_owned()),
        ["apis", group, version, rest @ ..] => resource(registry, group, version, rest),
        _ => Route::Unknown,
    }
}

fn resource(registry: &Registry, group: &str, version: &str, rest: &[&str]) -> Route {
    let target = |rt: &ResourceType, namespace: Option<&str>, tail: &[&str]| {
        if tail.len() > 2 {
            return Route::Unknown;
        }
        Route::Resource(Box::new(Target {
            rt: rt.clone(),
            namespace: namespace.map(str::to_owned),
            name: tail.first().map(|s| (*s).to_owned()),
            subresource: tail.get(1).map(|s| (*s).to_owned()),
        }))
    };
    if let ["namespaces", ns, plural, tail @ ..] = rest
        && let Some(rt) = registry.find(group, version, plural).filter(|rt| rt.namespaced)
    {
        return target(rt, Some(ns), tail);
    }
    match rest {
        [plural, tail @ ..] => registry
            .find(group, version, plural)
            .map_or(Route::Unknown, |rt| target(rt, None, tail)),
        [] => Route::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(path: &str) -> Target {
        match parse(&Registry::default(), path) {
            Route::Resource(t) => *t,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn namespaced_cluster_and_subresource_paths() {
        let t = target("/api/v1/namespaces/default/pods/web-1/status");
        assert_eq!(
            (
                t.rt.plural.as_str(),
                t.namespace.as_deref(),
                t.name.as_deref(),
                t.subresource.as_deref()
            ),
            ("pods", Some("default"), Some("web-1"), Some("status"))
        );
        let t = target("/api/v1/namespaces/default");
        assert_eq!(
            (t.rt.plural.as_str(), t.namespace, t.name.as_deref()),
            ("namespaces", None, Some("default"))
        );
        let t = target("/api/v1/namespaces/prod/status");
        assert_eq!(
            (t.rt.plural.as_str(), t.name.as_deref(), t.subresource.as_deref()),
            ("namespaces", Some("prod"), Some("status"))
        );
        let t = target("/apis/apps/v1/deployments");
        assert_eq!((t.rt.plural.as_str(), t.namespace, t.name), ("deployments", None, None));
        assert_eq!(parse(&Registry::default(), "/apis/apps/v1/widgets"), Route::Unknown);
        assert_eq!(
            parse(&Registry::default(), "/apis/apps/v1"),
            Route::GroupVersion("apps".into(), "v1".into())
        );
    }
}
