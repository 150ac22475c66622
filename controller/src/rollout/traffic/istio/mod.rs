//! Istio `VirtualService`, host-level splitting (Argo's `rollout/trafficrouting/istio/istio.go`,
//! `reconcileVirtualService`): in the HTTP routes the Rollout names (or the only one, when it names
//! none), the `weight` of the destinations whose `host` is the canary or the stable Service.
//! A host matches by the Service's name, or its `name.namespace[.svc[.cluster.local]]` forms.
//!
//! Subset-level splitting (`destinationRule`, Argo's `UpdateHash`): the destinations are told
//! apart by `subset` (the canary and stable subset names) instead of host, and the
//! DestinationRule's two subsets select the canary's and the stable pods by
//! `rollouts-pod-template-hash`, set to the pods' hashes before any weight moves.
//!
//! TLS and TCP routes (`tlsRoutes`, `tcpRoutes`, Argo's `getTlsRouteIndexesToPatch`): the routes
//! of `spec.tls` / `spec.tcp` with a `match` entry of that port (and those SNI hosts) get the
//! weights the same way.

use crds::Rollout;
use crds::rollout::{IstioDestinationRule, IstioTrafficRouting, IstioVirtualService};
use serde_json::Value;

mod routes;
mod subsets;

pub use routes::managed_ops;
pub use subsets::subset_patch;

use super::{RouteError, RouteTarget, Router, Split};

const GROUP: &str = "networking.istio.io";
const VERSION: &str = "v1beta1";

/// The DestinationRule of subset-level splitting, if the Rollout uses it.
fn destination_rule(rollout: &Rollout) -> Option<&IstioDestinationRule> {
    rollout
        .canary()?
        .traffic_routing
        .as_ref()?
        .istio
        .as_ref()?
        .destination_rule
        .as_ref()
}

/// The VirtualServices the configuration names (and its DestinationRule).
#[must_use]
pub fn targets(config: &IstioTrafficRouting, rollout_namespace: &str) -> Vec<RouteTarget> {
    let rule = config.destination_rule.iter().map(|rule| RouteTarget {
        router: Router::IstioSubsets,
        group: GROUP,
        version: VERSION,
        kind: "DestinationRule",
        plural: "destinationrules",
        namespace: rollout_namespace.to_owned(),
        name: rule.name.clone(),
        routes: Vec::new(),
        source: None,
    });
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
                group: GROUP,
                version: VERSION,
                kind: "VirtualService",
                plural: "virtualservices",
                namespace,
                name,
                routes: vs.routes.clone(),
                source: None,
            }
        })
        .chain(rule)
        .collect()
}

/// Whether a destination host names the Service `name`.
fn is_host(destination: &Value, name: &str) -> bool {
    let Some(host) = destination.pointer("/destination/host").and_then(Value::as_str) else {
        return false;
    };
    host == name || host.strip_prefix(name).is_some_and(|rest| rest.starts_with('.'))
}

/// How the two sides are told apart: by subset name with a DestinationRule, else by host.
#[derive(Clone, Copy)]
struct Sides<'a> {
    canary: &'a str,
    stable: &'a str,
    by_subset: bool,
}

impl<'a> Sides<'a> {
    fn of(rollout: &'a Rollout, split: &Split<'a>) -> Self {
        match destination_rule(rollout) {
            Some(rule) => Self {
                canary: &rule.canary_subset_name,
                stable: &rule.stable_subset_name,
                by_subset: true,
            },
            None => Self {
                canary: split.canary_service,
                stable: split.stable_service,
                by_subset: false,
            },
        }
    }

    fn is(self, destination: &Value, name: &str) -> bool {
        if self.by_subset {
            destination.pointer("/destination/subset").and_then(Value::as_str) == Some(name)
        } else {
            is_host(destination, name)
        }
    }

    /// `Some(true)` for the canary, `Some(false)` for the stable, `None` for another destination.
    fn side(self, destination: &Value) -> Option<bool> {
        if self.is(destination, self.canary) {
            Some(true)
        } else {
            self.is(destination, self.stable).then_some(false)
        }
    }

    fn guard(self) -> &'static str {
        if self.by_subset {
            "/destination/subset"
        } else {
            "/destination/host"
        }
    }
}

/// The VirtualService entry of the Rollout's configuration that `target` comes from.
fn vs_config<'a>(rollout: &'a Rollout, target: &RouteTarget) -> Option<&'a IstioVirtualService> {
    let istio = rollout.canary()?.traffic_routing.as_ref()?.istio.as_ref()?;
    let namespace = rollout.metadata.namespace.clone().unwrap_or_default();
    istio.virtual_service.iter().chain(&istio.virtual_services).find(|vs| {
        let (name, ns) = vs
            .name
            .split_once('.')
            .unwrap_or((vs.name.as_str(), namespace.as_str()));
        name == target.name && ns == target.namespace
    })
}

/// Whether a TLS or TCP route's `match` list has an entry for `selector` (Argo's `tlsRoutes` /
/// `tcpRoutes` entries: `port`, and for TLS `sniHosts`, each to be matched when given).
fn matches(route: &Value, selector: &Value) -> bool {
    let port = selector.get("port").and_then(Value::as_i64);
    let hosts: Vec<&str> = selector
        .get("sniHosts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    route
        .get("match")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|m| {
            let port_ok = port.is_none_or(|p| m.get("port").and_then(Value::as_i64) == Some(p));
            let have: Vec<&str> = m
                .get("sniHosts")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            port_ok && hosts.iter().all(|h| have.contains(h))
        })
}

/// `(JSON pointer, destinations)` of the routes managed: the HTTP routes named, the TLS and TCP
/// routes matched by the Rollout's `tlsRoutes` / `tcpRoutes`, or, when it names none of them, the
/// only HTTP route.
fn managed_routes<'a>(target: &RouteTarget, rollout: &Rollout, object: &'a Value) -> Vec<(String, &'a Vec<Value>)> {
    let list = |field: &str| -> Vec<&'a Value> {
        object
            .pointer(&format!("/spec/{field}"))
            .and_then(Value::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default()
    };
    let (tls_selectors, tcp_selectors) = vs_config(rollout, target)
        .map(|c| (c.tls_routes.clone(), c.tcp_routes.clone()))
        .unwrap_or_default();
    // Header and mirror routes the Rollout added are not weighted.
    let added = super::managed::names(rollout);
    let http: Vec<(usize, &Value)> = list("http")
        .into_iter()
        .enumerate()
        .filter(|(_, r)| !added.contains(&r.get("name").and_then(Value::as_str).unwrap_or_default()))
        .collect();
    let nothing_named = target.routes.is_empty() && tls_selectors.is_empty() && tcp_selectors.is_empty();
    let mut found = Vec::new();
    for &(i, route) in &http {
        let name = route.get("name").and_then(Value::as_str).unwrap_or_default();
        let managed = if nothing_named {
            http.len() == 1
        } else {
            target.routes.iter().any(|r| r == name)
        };
        if managed && let Some(destinations) = route.get("route").and_then(Value::as_array) {
            found.push((format!("/spec/http/{i}"), destinations));
        }
    }
    for (field, selectors) in [("tls", &tls_selectors), ("tcp", &tcp_selectors)] {
        for (i, route) in list(field).iter().enumerate() {
            if selectors.iter().any(|s| matches(route, s))
                && let Some(destinations) = route.get("route").and_then(Value::as_array)
            {
                found.push((format!("/spec/{field}/{i}"), destinations));
            }
        }
    }
    found
}

/// The JSON Patch that sets the weights.
///
/// # Errors
/// [`RouteError::NoDestinations`] when a managed route lacks a destination for either Service,
/// or none is managed.
pub fn patch(
    target: &RouteTarget,
    rollout: &Rollout,
    object: &Value,
    split: &Split<'_>,
) -> Result<Vec<Value>, RouteError> {
    let sides = Sides::of(rollout, split);
    let routes = managed_routes(target, rollout, object);
    let complete = |destinations: &Vec<Value>| {
        destinations.iter().any(|d| sides.is(d, sides.canary)) && destinations.iter().any(|d| sides.is(d, sides.stable))
    };
    if routes.is_empty() || !routes.iter().all(|(_, d)| complete(d)) {
        let named = |n: &str| {
            if sides.by_subset {
                format!("subset {n}")
            } else {
                n.to_owned()
            }
        };
        return Err(RouteError::NoDestinations {
            target: Box::new(target.clone()),
            stable: named(sides.stable),
            canary: named(sides.canary),
        });
    }
    let entries = routes.into_iter().flat_map(|(at, destinations)| {
        destinations
            .iter()
            .enumerate()
            .map(move |(j, d)| (format!("{at}/route/{j}"), d))
    });
    let current = |d: &Value| d.get("weight").and_then(Value::as_i64);
    Ok(super::weight_ops(
        entries,
        |d| sides.side(d),
        current,
        sides.guard(),
        split,
    ))
}

/// The canary's weight in the first managed route (a route without weights sends everything to
/// its first destination, as Envoy does with one destination).
#[must_use]
pub fn canary_weight(target: &RouteTarget, rollout: &Rollout, object: &Value, split: &Split<'_>) -> Option<i32> {
    let sides = Sides::of(rollout, split);
    let (_, destinations) = managed_routes(target, rollout, object).into_iter().next()?;
    let weight = |name| {
        destinations
            .iter()
            .filter(|d| sides.is(d, name))
            .map(|d| d.get("weight").and_then(Value::as_i64).unwrap_or(0))
            .sum::<i64>()
    };
    split.share(weight(sides.canary), weight(sides.stable))
}

/// Istio's VirtualService router.
pub struct Istio;

impl super::TrafficRouter for Istio {
    fn write(
        &self,
        target: &RouteTarget,
        rollout: &Rollout,
        objects: &super::Objects,
        split: &Split<'_>,
    ) -> Result<Option<super::RouteWrite>, RouteError> {
        let object = super::existing(target, objects)?;
        let ops = patch(target, rollout, object, split)?;
        let managed = managed_ops(target, rollout, &super::weighted(object, &ops), split)?;
        Ok(super::patched(ops.into_iter().chain(managed).collect()))
    }

    fn canary_weight(&self, target: &RouteTarget, rollout: &Rollout, object: &Value, split: &Split<'_>) -> Option<i32> {
        canary_weight(target, rollout, object, split)
    }
}

/// Istio's DestinationRule (subset hashes, no weight).
pub struct IstioSubsets;

impl super::TrafficRouter for IstioSubsets {
    fn write(
        &self,
        target: &RouteTarget,
        rollout: &Rollout,
        objects: &super::Objects,
        split: &Split<'_>,
    ) -> Result<Option<super::RouteWrite>, RouteError> {
        let object = super::existing(target, objects)?;
        Ok(super::patched(subset_patch(target, rollout, object, split)?))
    }

    fn canary_weight(&self, _: &RouteTarget, _: &Rollout, _: &Value, _: &Split<'_>) -> Option<i32> {
        None
    }
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

    fn rollout(istio: Value) -> Rollout {
        serde_json::from_value(json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "metadata": {"name": "api", "namespace": "shop"},
            "spec": {"strategy": {"canary": {"trafficRouting": {"istio": istio}}}}
        }))
        .unwrap()
    }

    fn host_level() -> Rollout {
        rollout(json!({"virtualService": {"name": "api-vs"}}))
    }

    fn split(canary_weight: i32) -> Split<'static> {
        Split {
            canary_service: "api-canary",
            stable_service: "api-stable",
            canary_weight,
            max_weight: 100,
            pods: crate::rollout::traffic::PodHashes::default(),
            managed: &[],
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
        let after = applied(&vs(), patch(&t, &host_level(), &vs(), &split(20)).unwrap());
        assert_eq!(after.pointer("/spec/http/0/route/0/weight"), Some(&json!(80)));
        assert_eq!(after.pointer("/spec/http/0/route/1/weight"), Some(&json!(20)));
        assert_eq!(after.pointer("/spec/http/1"), vs().pointer("/spec/http/1"));
        assert_eq!(canary_weight(&t, &host_level(), &after, &split(20)), Some(20));
        assert!(patch(&t, &host_level(), &after, &split(20)).unwrap().is_empty());
    }

    #[test]
    fn without_route_names_only_a_single_route_is_managed() {
        let err = patch(&target(&[]), &host_level(), &vs(), &split(20)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "VirtualService shop/api-vs: spec.http needs a route the Rollout names (or a single route) with destinations for both \"api-stable\" and \"api-canary\""
        );
        let mut one = vs();
        one["spec"]["http"].as_array_mut().unwrap().truncate(1);
        assert_eq!(patch(&target(&[]), &host_level(), &one, &split(20)).unwrap().len(), 4);
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

    #[test]
    fn subset_level_splits_by_subset_and_labels_the_subsets_with_the_pod_hashes() {
        let rollout = rollout(json!({"virtualService": {"name": "api-vs"},
            "destinationRule": {"name": "api-dr", "canarySubsetName": "canary", "stableSubsetName": "stable"}}));
        let config = rollout
            .canary()
            .unwrap()
            .traffic_routing
            .clone()
            .unwrap()
            .istio
            .unwrap();
        let all = targets(&config, "shop");
        let (vs_target, dr_target) = (&all[0], &all[1]);
        assert_eq!(
            (dr_target.kind, dr_target.router),
            ("DestinationRule", Router::IstioSubsets)
        );
        let vs = json!({"spec": {"http": [{"route": [
            {"destination": {"host": "api", "subset": "stable"}, "weight": 100},
            {"destination": {"host": "api", "subset": "canary"}, "weight": 0}]}]}});
        let mut split = split(30);
        split.canary_service = "";
        split.stable_service = "";
        let after = applied(&vs, patch(vs_target, &rollout, &vs, &split).unwrap());
        assert_eq!(after.pointer("/spec/http/0/route/1/weight"), Some(&json!(30)));
        assert_eq!(canary_weight(vs_target, &rollout, &after, &split), Some(30));

        let dr = json!({"spec": {"host": "api", "subsets": [
            {"name": "canary", "labels": {"app": "api"}}, {"name": "stable"}]}});
        split.pods = crate::rollout::traffic::PodHashes {
            canary: Some("new1"),
            stable: Some("old1"),
        };
        let labelled = applied(&dr, subset_patch(dr_target, &rollout, &dr, &split).unwrap());
        assert_eq!(
            labelled["spec"]["subsets"],
            json!([{"name": "canary", "labels": {"app": "api", "rollouts-pod-template-hash": "new1"}},
                {"name": "stable", "labels": {"rollouts-pod-template-hash": "old1"}}])
        );
        assert!(subset_patch(dr_target, &rollout, &labelled, &split).unwrap().is_empty());
        let missing = json!({"spec": {"subsets": [{"name": "stable"}]}});
        assert_eq!(
            subset_patch(dr_target, &rollout, &missing, &split)
                .unwrap_err()
                .to_string(),
            "DestinationRule shop/api-dr: spec.subsets has no subset named \"canary\""
        );
    }

    #[test]
    fn tls_and_tcp_routes_are_matched_by_port_and_sni_hosts() {
        let rollout = rollout(json!({"virtualService": {"name": "api-vs",
            "tlsRoutes": [{"port": 443, "sniHosts": ["api.example.com"]}], "tcpRoutes": [{"port": 5432}]}}));
        let config = rollout
            .canary()
            .unwrap()
            .traffic_routing
            .clone()
            .unwrap()
            .istio
            .unwrap();
        let t = targets(&config, "shop").remove(0);
        let pair = json!([{"destination": {"host": "api-stable"}, "weight": 100},
            {"destination": {"host": "api-canary"}, "weight": 0}]);
        let vs = json!({"spec": {
            "http": [{"name": "web", "route": pair}],
            "tls": [{"match": [{"port": 443, "sniHosts": ["api.example.com"]}], "route": pair},
                    {"match": [{"port": 443, "sniHosts": ["other.example.com"]}], "route": pair}],
            "tcp": [{"match": [{"port": 5432}], "route": pair}, {"match": [{"port": 6379}], "route": pair}]}});
        let after = applied(&vs, patch(&t, &rollout, &vs, &split(25)).unwrap());
        let canary = |path: &str| after.pointer(&format!("{path}/route/1/weight")).cloned();
        assert_eq!(canary("/spec/tls/0"), Some(json!(25)));
        assert_eq!(canary("/spec/tcp/0"), Some(json!(25)));
        assert_eq!(canary("/spec/tls/1"), Some(json!(0)), "another SNI host");
        assert_eq!(canary("/spec/tcp/1"), Some(json!(0)), "another port");
        assert_eq!(canary("/spec/http/0"), Some(json!(0)), "HTTP routes only when named");
    }
}
