//! Gateway API routes (`HTTPRoute`, `GRPCRoute`, `TCPRoute`): the weights of the `backendRefs` that
//! name the stable and canary Services, in every rule that names both, as the Gateway API plugin
//! of Argo Rollouts sets them (its `setHTTPRouteWeight`); rules that do not are left alone.
//!
//! The patch touches only `weight` fields, each guarded by a `test` of the backend's name, so a
//! route edited meanwhile (a rule added, backends reordered) fails the patch instead of getting a
//! weight in the wrong place; the next reconcile reads the route again.

use crds::Rollout;
use crds::rollout::{GatewayApiConfig, GatewayRouteKind, HeaderRoutingMatch, RouteMatch};
use serde_json::{Value, json};

use super::managed::Wanted;
use super::{RouteError, RouteTarget, Router, Split};

/// The routes the configuration names.
#[must_use]
pub fn targets(config: &GatewayApiConfig, rollout_namespace: &str) -> Vec<RouteTarget> {
    let namespace = config
        .namespace
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| rollout_namespace.to_owned());
    config
        .routes()
        .into_iter()
        .map(|(kind, name): (GatewayRouteKind, String)| RouteTarget {
            router: Router::GatewayApi,
            routes: Vec::new(),
            source: None,
            group: "gateway.networking.k8s.io",
            version: kind.version(),
            kind: kind.kind(),
            plural: kind.plural(),
            namespace: namespace.clone(),
            name,
        })
        .collect()
}

/// Whether a backendRef is the Service `name` (a Service is the default kind of a backend).
fn is_service(backend: &Value, name: &str) -> bool {
    let group = backend.get("group").and_then(Value::as_str).unwrap_or_default();
    let kind = backend.get("kind").and_then(Value::as_str).unwrap_or("Service");
    group.is_empty() && kind == "Service" && backend.get("name").and_then(Value::as_str) == Some(name)
}

/// `(rule index, backends)` of the rules that name both Services.
fn managed_rules<'a>(object: &'a Value, split: &Split<'_>) -> Vec<(usize, &'a Vec<Value>)> {
    let rules = object.pointer("/spec/rules").and_then(Value::as_array);
    rules
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, rule)| {
            let backends = rule.get("backendRefs")?.as_array()?;
            let has = |name| backends.iter().any(|b| is_service(b, name));
            (has(split.canary_service) && has(split.stable_service)).then_some((i, backends))
        })
        .collect()
}

/// The JSON Patch that sets the weights (empty when every managed rule has them).
///
/// # Errors
/// [`RouteError::NoBackends`] when no rule names both Services.
pub fn patch(target: &RouteTarget, object: &Value, split: &Split<'_>) -> Result<Vec<Value>, RouteError> {
    let rules = managed_rules(object, split);
    if rules.is_empty() {
        return Err(RouteError::NoBackends {
            target: Box::new(target.clone()),
            stable: split.stable_service.to_owned(),
            canary: split.canary_service.to_owned(),
        });
    }
    let entries = rules.into_iter().flat_map(|(i, backends)| {
        backends
            .iter()
            .enumerate()
            .map(move |(j, b)| (format!("/spec/rules/{i}/backendRefs/{j}"), b))
    });
    let side = |b: &Value| {
        if is_service(b, split.canary_service) {
            Some(true)
        } else {
            is_service(b, split.stable_service).then_some(false)
        }
    };
    // An absent weight means 1 (Gateway API's default).
    let current = |b: &Value| Some(b.get("weight").and_then(Value::as_i64).unwrap_or(1));
    Ok(super::weight_ops(entries, side, current, "/name", split))
}

/// The canary's weight in the first managed rule, scaled to `split.max_weight`.
#[must_use]
pub fn canary_weight(object: &Value, split: &Split<'_>) -> Option<i32> {
    let (_, backends) = managed_rules(object, split).into_iter().next()?;
    let weight = |name| {
        backends
            .iter()
            .filter(|b| is_service(b, name))
            .map(|b| b.get("weight").and_then(Value::as_i64).unwrap_or(1))
            .sum::<i64>()
    };
    split.share(weight(split.canary_service), weight(split.stable_service))
}

/// Whether `setHeaderRoute` rules go to this route: a single `httpRoute`, or an `httpRoutes`
/// entry with `useHeaderRoutes: true` (the plugin's rule).
fn takes_header_routes(rollout: &Rollout, target: &RouteTarget) -> bool {
    let Some(Ok(config)) = rollout
        .canary()
        .and_then(|c| c.traffic_routing.as_ref())
        .map(crds::rollout::RolloutTrafficRouting::gateway_api)
        .and_then(|c| c)
    else {
        return false;
    };
    target.kind == "HTTPRoute"
        && (config.http_route.as_deref() == Some(target.name.as_str())
            || config
                .http_routes
                .iter()
                .any(|r| r.name == target.name && r.use_header_routes))
}

/// `text` as a regular expression matching itself.
fn escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A Gateway API header match for Argo's (a prefix becomes a regular expression: Gateway API has
/// no prefix match for headers).
fn header_match(m: &HeaderRoutingMatch) -> Value {
    let value = m.header_value.clone().unwrap_or_default();
    let (kind, text) = match (value.exact, value.prefix, value.regex) {
        (Some(exact), _, _) => ("Exact", exact),
        (None, Some(prefix), _) => ("RegularExpression", format!("^{}.*", escaped(&prefix))),
        (None, None, Some(regex)) => ("RegularExpression", regex),
        (None, None, None) => ("RegularExpression", ".*".to_owned()),
    };
    json!({"name": m.header_name, "type": kind, "value": text})
}

/// A Gateway API match for a mirror route's condition: a method matches exactly (Gateway API
/// has nothing else for methods), a path exactly, by prefix or by regular expression.
fn mirror_match(target: &RouteTarget, m: &RouteMatch) -> Result<Value, RouteError> {
    let mut out = serde_json::Map::new();
    if let Some(method) = &m.method {
        let Some(exact) = &method.exact else {
            return Err(RouteError::Unsupported {
                target: Box::new(target.clone()),
                what: "a setMirrorRoute method match other than exact".into(),
            });
        };
        out.insert("method".into(), Value::from(exact.as_str()));
    }
    if let Some(path) = &m.path {
        let (kind, value) = match (&path.exact, &path.prefix, &path.regex) {
            (Some(v), _, _) => ("Exact", v),
            (None, Some(v), _) => ("PathPrefix", v),
            (None, None, Some(v)) => ("RegularExpression", v),
            (None, None, None) => ("PathPrefix", &"/".to_owned()),
        };
        out.insert("path".into(), json!({"type": kind, "value": value}));
    }
    if !m.headers.is_empty() {
        let headers: Vec<Value> = m
            .headers
            .iter()
            .map(|(name, value)| {
                header_match(&HeaderRoutingMatch {
                    header_name: name.clone(),
                    header_value: Some(value.clone()),
                })
            })
            .collect();
        out.insert("headers".into(), Value::from(headers));
    }
    Ok(Value::Object(out))
}

/// The JSON Patch that makes the route's managed rules (named after `managedRoutes`) the wanted
/// ones, after the other rules (empty when they are): a header route sends requests with its
/// headers to the canary Service alone; a mirror route keeps the weighted rule's backends and
/// mirrors `percent` of its matches to the canary (a `RequestMirror` filter).
///
/// # Errors
/// [`RouteError::NoBackends`] when a header route is wanted but no rule has a canary backend.
pub fn managed_ops(
    target: &RouteTarget,
    rollout: &Rollout,
    object: &Value,
    split: &Split<'_>,
) -> Result<Vec<Value>, RouteError> {
    let names = super::managed::names(rollout);
    if names.is_empty() || !takes_header_routes(rollout, target) {
        return Ok(Vec::new());
    }
    let mut wanted = Vec::new();
    if !split.managed.is_empty() {
        let no_backends = || RouteError::NoBackends {
            target: Box::new(target.clone()),
            stable: split.stable_service.to_owned(),
            canary: split.canary_service.to_owned(),
        };
        let (_, weighted) = managed_rules(object, split)
            .into_iter()
            .next()
            .ok_or_else(no_backends)?;
        let mut backend = weighted
            .iter()
            .find(|b| is_service(b, split.canary_service))
            .cloned()
            .ok_or_else(no_backends)?;
        if let Some(b) = backend.as_object_mut() {
            b.remove("weight");
        }
        for route in split.managed {
            wanted.push(match route {
                Wanted::Header { name, matches } => {
                    let matches: Vec<Value> = matches.iter().map(|m| json!({"headers": [header_match(m)]})).collect();
                    json!({"name": name, "matches": matches, "backendRefs": [backend]})
                }
                Wanted::Mirror {
                    name,
                    matches,
                    percentage,
                } => {
                    let matches = matches
                        .iter()
                        .map(|m| mirror_match(target, m))
                        .collect::<Result<Vec<Value>, RouteError>>()?;
                    let mirror = json!({"type": "RequestMirror",
                        "requestMirror": {"backendRef": backend, "percent": percentage}});
                    json!({"name": name, "matches": matches, "backendRefs": weighted, "filters": [mirror]})
                }
            });
        }
    }
    Ok(super::managed::place(
        object,
        "/spec/rules",
        &names,
        wanted,
        super::managed::At::End,
    ))
}

/// The Gateway API router.
pub struct GatewayApi;

impl super::TrafficRouter for GatewayApi {
    fn write(
        &self,
        target: &RouteTarget,
        rollout: &Rollout,
        objects: &super::Objects,
        split: &Split<'_>,
    ) -> Result<Option<super::RouteWrite>, RouteError> {
        let object = super::existing(target, objects)?;
        let ops = patch(target, object, split)?;
        let managed = managed_ops(target, rollout, &super::weighted(object, &ops), split)?;
        Ok(super::patched(ops.into_iter().chain(managed).collect()))
    }

    fn canary_weight(&self, _: &RouteTarget, _: &Rollout, object: &Value, split: &Split<'_>) -> Option<i32> {
        canary_weight(object, split)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::json;

    fn target() -> RouteTarget {
        targets(
            &GatewayApiConfig {
                http_route: Some("web".into()),
                ..GatewayApiConfig::default()
            },
            "shop",
        )
        .remove(0)
    }

    fn split(canary_weight: i32) -> Split<'static> {
        Split {
            canary_service: "web-canary",
            stable_service: "web-stable",
            canary_weight,
            max_weight: 100,
            pods: crate::rollout::traffic::PodHashes::default(),
            managed: &[],
        }
    }

    /// A route as users write it: a rule for both Services, a rule to another backend.
    fn route() -> Value {
        json!({"spec": {"rules": [
            {"backendRefs": [{"name": "web-stable", "port": 80, "weight": 100}, {"name": "web-canary", "port": 80, "weight": 0}]},
            {"matches": [{"path": {"value": "/static"}}], "backendRefs": [{"name": "cdn", "port": 80}]}
        ]}})
    }

    fn applied(object: &Value, ops: Vec<Value>) -> Value {
        let mut doc = object.clone();
        let patch: json_patch::Patch = serde_json::from_value(Value::Array(ops)).unwrap();
        json_patch::patch(&mut doc, &patch).unwrap();
        doc
    }

    #[test]
    fn weights_are_set_on_the_rules_naming_both_services_only() {
        let ops = patch(&target(), &route(), &split(10)).unwrap();
        let after = applied(&route(), ops);
        assert_eq!(after.pointer("/spec/rules/0/backendRefs/0/weight"), Some(&json!(90)));
        assert_eq!(after.pointer("/spec/rules/0/backendRefs/1/weight"), Some(&json!(10)));
        assert_eq!(after.pointer("/spec/rules/1"), route().pointer("/spec/rules/1"));
        assert_eq!(canary_weight(&after, &split(10)), Some(10));
        // Already there: nothing to write.
        assert!(patch(&target(), &after, &split(10)).unwrap().is_empty());
    }

    #[test]
    fn each_weight_is_guarded_by_the_backends_name() {
        let ops = patch(&target(), &route(), &split(50)).unwrap();
        let mut moved = route();
        let backends = moved
            .pointer_mut("/spec/rules/0/backendRefs")
            .unwrap()
            .as_array_mut()
            .unwrap();
        backends.reverse();
        let patch: json_patch::Patch = serde_json::from_value(Value::Array(ops)).unwrap();
        assert!(json_patch::patch(&mut moved, &patch).is_err());
    }

    #[test]
    fn a_route_without_both_services_is_an_error_naming_it() {
        let lone = json!({"spec": {"rules": [{"backendRefs": [{"name": "web-stable"}]}]}});
        let err = patch(&target(), &lone, &split(10)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "HTTPRoute shop/web: no rule of spec.rules has backendRefs to both \"web-stable\" and \"web-canary\""
        );
        // A backend of another kind with the Service's name is not the Service.
        let other = json!({"spec": {"rules": [{"backendRefs": [
            {"name": "web-stable"}, {"name": "web-canary", "group": "example.com", "kind": "Bucket"}
        ]}]}});
        assert!(patch(&target(), &other, &split(10)).is_err());
    }

    #[test]
    fn absent_weights_count_as_one_and_a_max_weight_scales() {
        let even = json!({"spec": {"rules": [{"backendRefs": [{"name": "web-stable"}, {"name": "web-canary"}]}]}});
        assert_eq!(canary_weight(&even, &split(0)), Some(50));
        let thousand = Split {
            max_weight: 1000,
            pods: crate::rollout::traffic::PodHashes::default(),
            managed: &[],
            ..split(25)
        };
        let after = applied(&even, patch(&target(), &even, &thousand).unwrap());
        assert_eq!(after.pointer("/spec/rules/0/backendRefs/0/weight"), Some(&json!(975)));
        assert_eq!(canary_weight(&after, &thousand), Some(25));
    }
}
