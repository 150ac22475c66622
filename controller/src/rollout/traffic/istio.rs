//! Istio `VirtualService`, host-level splitting (Argo's `rollout/trafficrouting/istio/istio.go`,
//! `reconcileVirtualService`): in the HTTP routes the Rollout names (or the only one, when it names
//! none), the `weight` of the destinations whose `host` is the canary or the stable Service.
//! A host matches by the Service's name, or its `name.namespace[.svc[.cluster.local]]` forms.
//! Subset-level splitting (a `DestinationRule`) and TLS/TCP routes are refused as not supported
//! yet by the caller.

use crds::rollout::IstioTrafficRouting;
use serde_json::Value;

use super::{RouteError, RouteTarget, Router, Split};

/// The VirtualServices the configuration names.
#[must_use]
pub fn targets(config: &IstioTrafficRouting, rollout_namespace: &str) -> Vec<RouteTarget> {
    config
        .virtual_service
        .iter()
        .chain(&config.virtual_services)
        .map(|vs| {
            // `name` may be `name.namespace`, as in Argo.
            let (name, namespace) = vs
                .name
                .split_once('.')
                .map_or((vs.name.clone(), rollout_namespace.to_owned()), |(n, ns)| {
                    (n.to_owned(), ns.to_owned())
                });
            RouteTarget {
                router: Router::Istio,
                group: "networking.istio.io",
                version: "v1beta1",
                kind: "VirtualService",
                plural: "virtualservices",
                namespace,
                name,
                routes: vs.routes.clone(),
            }
        })
        .collect()
}

/// Whether a destination host names the Service `name`.
fn is_host(destination: &Value, name: &str) -> bool {
    let Some(host) = destination.pointer("/destination/host").and_then(Value::as_str) else {
        return false;
    };
    host == name || host.strip_prefix(name).is_some_and(|rest| rest.starts_with('.'))
}

/// `(index, destinations)` of the HTTP routes managed: those named, or the only one.
fn managed_routes<'a>(target: &RouteTarget, object: &'a Value) -> Vec<(usize, &'a Vec<Value>)> {
    let http: Vec<&Value> = object
        .pointer("/spec/http")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let named = |route: &Value| {
        let name = route.get("name").and_then(Value::as_str).unwrap_or_default();
        target.routes.iter().any(|r| r == name)
    };
    http.iter()
        .enumerate()
        .filter(|(_, route)| {
            if target.routes.is_empty() {
                http.len() == 1
            } else {
                named(route)
            }
        })
        .filter_map(|(i, route)| Some((i, route.get("route")?.as_array()?)))
        .collect()
}

/// The JSON Patch that sets the weights.
///
/// # Errors
/// [`RouteError::NoDestinations`] when a managed route lacks a destination for either Service,
/// or none is managed.
pub fn patch(target: &RouteTarget, object: &Value, split: &Split<'_>) -> Result<Vec<Value>, RouteError> {
    let routes = managed_routes(target, object);
    let complete = |destinations: &Vec<Value>| {
        destinations.iter().any(|d| is_host(d, split.canary_service))
            && destinations.iter().any(|d| is_host(d, split.stable_service))
    };
    if routes.is_empty() || !routes.iter().all(|(_, d)| complete(d)) {
        return Err(RouteError::NoDestinations {
            target: Box::new(target.clone()),
            stable: split.stable_service.to_owned(),
            canary: split.canary_service.to_owned(),
        });
    }
    let entries = routes.into_iter().flat_map(|(i, destinations)| {
        destinations
            .iter()
            .enumerate()
            .map(move |(j, d)| (format!("/spec/http/{i}/route/{j}"), d))
    });
    let side = |d: &Value| {
        if is_host(d, split.canary_service) {
            Some(true)
        } else {
            is_host(d, split.stable_service).then_some(false)
        }
    };
    let current = |d: &Value| d.get("weight").and_then(Value::as_i64);
    Ok(super::weight_ops(entries, side, current, "/destination/host", split))
}

/// The canary's weight in the first managed route (a route without weights sends everything to
/// its first destination, as Envoy does with one destination).
#[must_use]
pub fn canary_weight(target: &RouteTarget, object: &Value, split: &Split<'_>) -> Option<i32> {
    let (_, destinations) = managed_routes(target, object).into_iter().next()?;
    let weight = |name| {
        destinations
            .iter()
            .filter(|d| is_host(d, name))
            .map(|d| d.get("weight").and_then(Value::as_i64).unwrap_or(0))
            .sum::<i64>()
    };
    let (canary, stable) = (weight(split.canary_service), weight(split.stable_service));
    if canary + stable == 0 {
        return Some(0);
    }
    i32::try_from(canary * i64::from(split.max_weight) / (canary + stable)).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crds::rollout::IstioVirtualService;
    use serde_json::json;

    fn target(routes: &[&str]) -> RouteTarget {
        let config = IstioTrafficRouting {
            virtual_service: Some(IstioVirtualService {
                name: "api-vs".into(),
                routes: routes.iter().map(|r| (*r).to_owned()).collect(),
                ..IstioVirtualService::default()
            }),
            ..IstioTrafficRouting::default()
        };
        targets(&config, "shop").remove(0)
    }

    fn split(canary_weight: i32) -> Split<'static> {
        Split {
            canary_service: "api-canary",
            stable_service: "api-stable",
            canary_weight,
            max_weight: 100,
        }
    }

    /// Argo's documented host-level VirtualService, plus a route the Rollout does not manage.
    fn vs() -> Value {
        json!({"spec": {"hosts": ["api.example.com"], "http": [
            {"name": "primary", "route": [
                {"destination": {"host": "api-stable"}, "weight": 100},
                {"destination": {"host": "api-canary.shop.svc.cluster.local"}, "weight": 0}]},
            {"name": "admin", "route": [{"destination": {"host": "admin"}}]}
        ]}})
    }

    fn applied(object: &Value, ops: Vec<Value>) -> Value {
        let mut doc = object.clone();
        let patch: json_patch::Patch = serde_json::from_value(Value::Array(ops)).unwrap();
        json_patch::patch(&mut doc, &patch).unwrap();
        doc
    }

    #[test]
    fn the_named_routes_get_the_weights_and_others_are_left_alone() {
        let t = target(&["primary"]);
        let after = applied(&vs(), patch(&t, &vs(), &split(20)).unwrap());
        assert_eq!(after.pointer("/spec/http/0/route/0/weight"), Some(&json!(80)));
        assert_eq!(after.pointer("/spec/http/0/route/1/weight"), Some(&json!(20)));
        assert_eq!(after.pointer("/spec/http/1"), vs().pointer("/spec/http/1"));
        assert_eq!(canary_weight(&t, &after, &split(20)), Some(20));
        assert!(patch(&t, &after, &split(20)).unwrap().is_empty());
    }

    #[test]
    fn without_route_names_only_a_single_route_is_managed() {
        let err = patch(&target(&[]), &vs(), &split(20)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "VirtualService shop/api-vs: spec.http needs a route the Rollout names (or a single route) with destinations for both \"api-stable\" and \"api-canary\""
        );
        let mut one = vs();
        one["spec"]["http"].as_array_mut().unwrap().truncate(1);
        assert_eq!(patch(&target(&[]), &one, &split(20)).unwrap().len(), 4);
        // `name.namespace` names a VirtualService in another namespace.
        let config = IstioTrafficRouting {
            virtual_services: vec![IstioVirtualService {
                name: "edge-vs.gateways".into(),
                ..IstioVirtualService::default()
            }],
            ..IstioTrafficRouting::default()
        };
        let t = &targets(&config, "shop")[0];
        assert_eq!((t.name.as_str(), t.namespace.as_str()), ("edge-vs", "gateways"));
    }

    #[test]
    fn a_host_is_the_service_by_name_or_its_qualified_forms_only() {
        for host in ["api-canary", "api-canary.shop", "api-canary.shop.svc.cluster.local"] {
            assert!(is_host(&json!({"destination": {"host": host}}), "api-canary"), "{host}");
        }
        assert!(!is_host(
            &json!({"destination": {"host": "api-canary-2"}}),
            "api-canary"
        ));
    }
}
