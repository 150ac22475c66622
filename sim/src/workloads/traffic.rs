//! Simulated requests follow the traffic routers: for a Gateway API route (`HTTPRoute`,
//! `GRPCRoute`) each rule's requests are split over its `backendRefs` by weight, for an Istio
//! `VirtualService` each HTTP route's over its destinations (a `subset` narrowed to its
//! `DestinationRule` subset's labels), for an SMI `TrafficSplit` over its
//! backends, and for an Ingress path as ingress-nginx splits it: a canary Ingress
//! (`<prefix>/canary: "true"`) with the same host and path takes `canary-weight` of
//! `canary-weight-total` (100), the stable Ingress the rest. Each backend's share is spread over
//! the ready pods its Service selects. So a 5% canary answers 5% of the requests, whatever its
//! share of pods.
//!
//! The model: a rule carries as many requests as its pods would answer unrouted (the default rate
//! times the ready pods behind all its backends), so routing moves requests between versions
//! without changing the total. Pods behind no route answer the default rate, as before. Because
//! weights change over time, request counters are integrated ([`Meter`]) rather than computed from
//! serving time, so they only ever grow and `rate()` sees the split of the moment.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use k8s_openapi::api::core::v1::{Pod, Service};
use serde_json::Value;

use super::metrics::PodSeries;

/// `namespace/name` of an object.
fn key(namespace: &str, name: &str) -> String {
    format!("{namespace}/{name}")
}

fn pod_key(pod: &Pod) -> String {
    key(
        pod.metadata.namespace.as_deref().unwrap_or_default(),
        pod.metadata.name.as_deref().unwrap_or_default(),
    )
}

/// Whether `service` selects `pod` (a Service without a selector selects nothing here).
fn selects(service: &Service, pod: &Pod) -> bool {
    let Some(selector) = service.spec.as_ref().and_then(|s| s.selector.as_ref()) else {
        return false;
    };
    let labels = pod.metadata.labels.clone().unwrap_or_default();
    !selector.is_empty()
        && service.metadata.namespace == pod.metadata.namespace
        && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// The Service backends of a rule: `(namespace/name, weight)`, a weight defaulting to 1.
fn backends(rule: &Value, route_namespace: &str) -> Vec<(String, f64)> {
    rule.get("backendRefs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|b| {
            b.get("group").and_then(Value::as_str).unwrap_or_default().is_empty()
                && b.get("kind").and_then(Value::as_str).unwrap_or("Service") == "Service"
        })
        .filter_map(|b| {
            let name = b.get("name")?.as_str()?;
            let namespace = b.get("namespace").and_then(Value::as_str).unwrap_or(route_namespace);
            #[allow(clippy::cast_precision_loss)] // weights are at most 1,000,000
            let weight = b.get("weight").and_then(Value::as_i64).unwrap_or(1).max(0) as f64;
            Some((key(namespace, name), weight))
        })
        .collect()
}

/// The Service backends of an Istio HTTP route: `(namespace/name, weight)`; the host's first label
/// is the Service, its second (if any) the namespace. A lone destination without a weight takes all.
fn destinations(route: &Value, vs_namespace: &str) -> Vec<(String, f64)> {
    let all: Vec<&Value> = route
        .get("route")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let lone = all.len() == 1;
    all.into_iter()
        .filter_map(|d| {
            let host = d.pointer("/destination/host")?.as_str()?;
            let mut labels = host.split('.');
            let name = labels.next()?;
            let namespace = labels.next().unwrap_or(vs_namespace);
            let default = if lone { 100 } else { 0 };
            #[allow(clippy::cast_precision_loss)] // weights are at most 100
            let weight = d.get("weight").and_then(Value::as_i64).unwrap_or(default).max(0) as f64;
            // A subset narrows the Service's pods to a DestinationRule subset's labels.
            let backend = match d.pointer("/destination/subset").and_then(Value::as_str) {
                Some(subset) => format!("{}#{subset}", key(namespace, name)),
                None => key(namespace, name),
            };
            Some((backend, weight))
        })
        .collect()
}

/// An annotation of `object` whose key ends with `/{name}` (any prefix, as ingress-nginx's is
/// configurable).
fn annotation<'a>(object: &'a Value, name: &str) -> Option<&'a str> {
    let annotations = object.pointer("/metadata/annotations")?.as_object()?;
    annotations
        .iter()
        .find(|(k, _)| k.rsplit_once('/').is_some_and(|(_, n)| n == name))
        .and_then(|(_, v)| v.as_str())
}

fn is_canary_ingress(object: &Value) -> bool {
    object.get("kind").and_then(Value::as_str) == Some("Ingress") && annotation(object, "canary") == Some("true")
}

/// `(host, path, Service)` of each path of an Ingress.
fn ingress_paths(ingress: &Value) -> Vec<(String, String, String)> {
    let mut found = Vec::new();
    for rule in ingress
        .pointer("/spec/rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let host = rule.get("host").and_then(Value::as_str).unwrap_or_default();
        for path in rule
            .pointer("/http/paths")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let at = path.get("path").and_then(Value::as_str).unwrap_or("/");
            if let Some(service) = path.pointer("/backend/service/name").and_then(Value::as_str) {
                found.push((host.to_owned(), at.to_owned(), service.to_owned()));
            }
        }
    }
    found
}

/// The weighted backends of each path of a (non-canary) Ingress, with the canary Ingresses of
/// its namespace that serve the same host and path.
fn ingress_rules(stable: &Value, canaries: &[&Value], namespace: &str) -> Vec<Vec<(String, f64)>> {
    let number = |object: &Value, name: &str, default: f64| {
        annotation(object, name)
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(default)
    };
    ingress_paths(stable)
        .into_iter()
        .map(|(host, path, service)| {
            let canary = canaries
                .iter()
                .filter(|c| c.pointer("/metadata/namespace").and_then(Value::as_str) == Some(namespace))
                .find_map(|c| {
                    let (_, _, to) = ingress_paths(c)
                        .into_iter()
                        .find(|(h, p, _)| *h == host && *p == path)?;
                    let total = number(c, "canary-weight-total", 100.0).max(1.0);
                    Some((to, number(c, "canary-weight", 0.0).clamp(0.0, total), total))
                });
            match canary {
                Some((to, weight, total)) => vec![
                    (key(namespace, &service), total - weight),
                    (key(namespace, &to), weight),
                ],
                None => vec![(key(namespace, &service), 1.0)],
            }
        })
        .collect()
}

/// The weighted backends of an SMI TrafficSplit (weights are integers or quantity strings).
fn split_backends(split: &Value, namespace: &str) -> Vec<(String, f64)> {
    let backends = split.pointer("/spec/backends").and_then(Value::as_array);
    backends
        .into_iter()
        .flatten()
        .filter_map(|b| {
            let service = b.get("service")?.as_str()?;
            let weight = match b.get("weight") {
                Some(Value::Number(n)) => n.as_f64().unwrap_or(0.0),
                Some(Value::String(s)) => s.trim().parse().unwrap_or(0.0),
                _ => 0.0,
            };
            Some((key(namespace, service), weight.max(0.0)))
        })
        .collect()
}

/// The weighted backend lists of a router object: one per rule (Gateway API), HTTP route (Istio),
/// Ingress path (with `canaries`, the canary Ingresses) or TrafficSplit.
fn rules(route: &Value, canaries: &[&Value]) -> Vec<Vec<(String, f64)>> {
    let namespace = route
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match route.get("kind").and_then(Value::as_str) {
        Some("VirtualService") => {
            // Simulated requests carry no special headers: header routes (a canary's
            // `setHeaderRoute`) see none of them.
            let by_header = |r: &&Value| {
                r.get("match")
                    .and_then(Value::as_array)
                    .is_some_and(|m| !m.is_empty() && m.iter().all(|m| m.get("headers").is_some()))
            };
            let http = route.pointer("/spec/http").and_then(Value::as_array);
            http.into_iter()
                .flatten()
                .filter(|r| !by_header(r))
                .map(|r| destinations(r, namespace))
                .collect()
        }
        Some("TrafficSplit") => vec![split_backends(route, namespace)],
        Some("DestinationRule") => Vec::new(),
        Some("Ingress") if is_canary_ingress(route) => Vec::new(),
        Some("Ingress") => ingress_rules(route, canaries, namespace),
        _ => {
            // As for Istio: rules matching only on headers see no simulated request.
            let by_header = |r: &&Value| {
                r.get("matches")
                    .and_then(Value::as_array)
                    .is_some_and(|m| !m.is_empty() && m.iter().all(|m| m.get("headers").is_some()))
            };
            let rules = route.pointer("/spec/rules").and_then(Value::as_array);
            rules
                .into_iter()
                .flatten()
                .filter(|r| !by_header(r))
                .map(|r| backends(r, namespace))
                .collect()
        }
    }
}

/// Each routed pod's share of requests relative to an unrouted pod (1.0 = the default rate);
/// pods behind no route are absent. `routes` are route objects as JSON.
#[must_use]
pub fn shares(ready: &[&Pod], services: &[&Service], routes: &[Value]) -> HashMap<String, f64> {
    let by_name: BTreeMap<String, &Service> = services
        .iter()
        .map(|s| {
            let ns = s.metadata.namespace.as_deref().unwrap_or_default();
            (key(ns, s.metadata.name.as_deref().unwrap_or_default()), *s)
        })
        .collect();
    let mut shares: HashMap<String, f64> = HashMap::new();
    let canaries: Vec<&Value> = routes.iter().filter(|r| is_canary_ingress(r)).collect();
    let subsets = subsets(routes);
    for route in routes {
        for rule in rules(route, &canaries) {
            let backends: Vec<(Vec<String>, f64)> = rule
                .into_iter()
                .map(|(backend, weight)| {
                    // `Some(labels)` narrows to a subset; a subset no DestinationRule defines
                    // selects no pod (Envoy has no such cluster).
                    let (service, labels) = match backend.split_once('#') {
                        Some((service, subset)) => (
                            service.to_owned(),
                            Some(subsets.get(&(service.to_owned(), subset.to_owned()))),
                        ),
                        None => (backend, None),
                    };
                    let in_subset = |pod: &Pod| {
                        let have = pod.metadata.labels.clone().unwrap_or_default();
                        match labels {
                            None => true,
                            Some(None) => false,
                            Some(Some(l)) => l.iter().all(|(k, v)| have.get(k) == Some(v)),
                        }
                    };
                    let pods = by_name.get(&service).map_or_else(Vec::new, |svc| {
                        ready
                            .iter()
                            .filter(|p| selects(svc, p) && in_subset(p))
                            .map(|p| pod_key(p))
                            .collect()
                    });
                    (pods, weight)
                })
                .collect();
            let all: BTreeSet<&String> = backends.iter().flat_map(|(pods, _)| pods).collect();
            let total_weight: f64 = backends.iter().map(|(_, w)| w).sum();
            if all.is_empty() || total_weight <= 0.0 {
                continue;
            }
            #[allow(clippy::cast_precision_loss)] // pod counts
            let requests = all.len() as f64;
            for (pods, weight) in &backends {
                for pod in pods {
                    #[allow(clippy::cast_precision_loss)]
                    let each = requests * weight / total_weight / pods.len() as f64;
                    *shares.entry(pod.clone()).or_default() += each;
                }
            }
            for pod in all {
                shares.entry(pod.clone()).or_default();
            }
        }
    }
    shares
}

/// The labels of each DestinationRule subset, by (`namespace/Service`, subset name); the rule's
/// `host` names the Service as a destination does.
fn subsets(routes: &[Value]) -> HashMap<(String, String), BTreeMap<String, String>> {
    let mut found = HashMap::new();
    for rule in routes
        .iter()
        .filter(|r| r.get("kind").and_then(Value::as_str) == Some("DestinationRule"))
    {
        let namespace = rule
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let Some(host) = rule.pointer("/spec/host").and_then(Value::as_str) else {
            continue;
        };
        let mut parts = host.split('.');
        let name = parts.next().unwrap_or_default();
        let service = key(parts.next().unwrap_or(namespace), name);
        for subset in rule
            .pointer("/spec/subsets")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(subset_name) = subset.get("name").and_then(Value::as_str) else {
                continue;
            };
            let labels: BTreeMap<String, String> = subset
                .get("labels")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect();
            found.insert((service.clone(), subset_name.to_owned()), labels);
        }
    }
    found
}

/// Integrated request counters per pod: each observation adds the requests answered since the
/// last one at the pod's current rate.
#[derive(Debug, Default)]
pub struct Meter {
    pods: HashMap<String, (f64, jiff::Timestamp)>,
}

impl Meter {
    /// Sets each series' `requests` at `now`, given each pod's rate (requests per second, by
    /// `namespace/name`). A pod seen for the first time is counted from when it became ready at
    /// its current rate; pods no longer ready are forgotten.
    pub fn observe(&mut self, now: jiff::Timestamp, series: &mut [PodSeries], rates: &HashMap<String, f64>) {
        let mut seen = HashMap::with_capacity(series.len());
        for s in series.iter_mut() {
            let id = key(&s.namespace, &s.pod);
            let rate = rates.get(&id).copied().unwrap_or(0.0);
            let total = match self.pods.get(&id) {
                Some((total, last)) => total + rate * now.duration_since(*last).as_secs_f64().max(0.0),
                None => rate * s.serving_seconds,
            };
            s.requests = total;
            seen.insert(id, (total, now));
        }
        self.pods = seen;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::json;

    fn pod(name: &str, hash: &str) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": name, "namespace": "default",
            "labels": {"app": "api", "rollouts-pod-template-hash": hash}}}))
        .unwrap()
    }

    fn service(name: &str, hash: &str) -> Service {
        serde_json::from_value(json!({"metadata": {"name": name, "namespace": "default"},
            "spec": {"selector": {"app": "api", "rollouts-pod-template-hash": hash}}}))
        .unwrap()
    }

    fn route(stable: i64, canary: i64) -> Value {
        json!({"metadata": {"name": "api", "namespace": "default"}, "spec": {"rules": [{"backendRefs": [
            {"name": "api-stable", "weight": stable}, {"name": "api-canary", "weight": canary}
        ]}]}})
    }

    #[test]
    fn a_five_percent_canary_answers_five_percent_of_the_requests_whatever_its_pods() {
        let pods: Vec<Pod> = (0..4)
            .map(|i| pod(&format!("stable-{i}"), "s"))
            .chain([pod("canary-0", "c")])
            .collect();
        let ready: Vec<&Pod> = pods.iter().collect();
        let services = [service("api-stable", "s"), service("api-canary", "c")];
        let services: Vec<&Service> = services.iter().collect();
        let shares = shares(&ready, &services, &[route(95, 5)]);
        let canary = shares["default/canary-0"];
        let stable: f64 = (0..4).map(|i| shares[&format!("default/stable-{i}")]).sum();
        assert!((canary / (canary + stable) - 0.05).abs() < 1e-9, "{canary} {stable}");
        // The total is what the five pods would answer unrouted.
        assert!((canary + stable - 5.0).abs() < 1e-9);
        // Weight 0: the canary answers nothing; without the route every pod answers alike.
        assert_eq!(
            super::shares(&ready, &services, &[route(100, 0)])["default/canary-0"],
            0.0
        );
        assert!(super::shares(&ready, &services, &[]).is_empty());
    }

    #[test]
    fn an_nginx_canary_ingress_takes_its_weight_of_the_matching_host_and_path() {
        let pods = [pod("stable-0", "s"), pod("stable-1", "s"), pod("canary-0", "c")];
        let ready: Vec<&Pod> = pods.iter().collect();
        let services = [service("api-stable", "s"), service("api-canary", "c")];
        let services: Vec<&Service> = services.iter().collect();
        let ingress = |name: &str, to: &str, annotations: Value| {
            json!({"kind": "Ingress", "metadata": {"name": name, "namespace": "default", "annotations": annotations},
                "spec": {"rules": [{"host": "api.example", "http": {"paths": [{"path": "/",
                    "backend": {"service": {"name": to, "port": {"number": 80}}}}]}}]}})
        };
        let stable = ingress("api", "api-stable", json!({}));
        let canary = ingress(
            "api-api-canary",
            "api-canary",
            json!({"nginx.ingress.kubernetes.io/canary": "true", "nginx.ingress.kubernetes.io/canary-weight": "10"}),
        );
        let shares = shares(&ready, &services, &[stable.clone(), canary]);
        let total: f64 = shares.values().sum();
        assert!((shares["default/canary-0"] / total - 0.10).abs() < 1e-9, "{shares:?}");
        assert!((total - 3.0).abs() < 1e-9);
        // Without a canary Ingress the stable Ingress sends everything to the stable Service.
        let alone = super::shares(&ready, &services, &[stable]);
        assert_eq!(alone.get("default/canary-0"), None);
    }

    #[test]
    fn an_istio_subset_takes_the_pods_of_its_destination_rule_labels() {
        let pods = [pod("stable-0", "s"), pod("stable-1", "s"), pod("canary-0", "c")];
        let ready: Vec<&Pod> = pods.iter().collect();
        let root: Service = serde_json::from_value(json!({"metadata": {"name": "api", "namespace": "default"},
            "spec": {"selector": {"app": "api"}}}))
        .unwrap();
        let services = [&root];
        let vs = json!({"kind": "VirtualService", "metadata": {"name": "api", "namespace": "default"},
            "spec": {"http": [{"route": [
                {"destination": {"host": "api", "subset": "stable"}, "weight": 70},
                {"destination": {"host": "api", "subset": "canary"}, "weight": 30}]}]}});
        let dr = json!({"kind": "DestinationRule", "metadata": {"name": "api", "namespace": "default"},
            "spec": {"host": "api.default.svc.cluster.local", "subsets": [
                {"name": "canary", "labels": {"rollouts-pod-template-hash": "c"}},
                {"name": "stable", "labels": {"rollouts-pod-template-hash": "s"}}]}});
        let shares = shares(&ready, &services, &[vs.clone(), dr]);
        let total: f64 = shares.values().sum();
        assert!((shares["default/canary-0"] / total - 0.30).abs() < 1e-9, "{shares:?}");
        // Without the DestinationRule the subsets select nothing.
        assert!(super::shares(&ready, &services, &[vs]).is_empty());
    }

    #[test]
    fn an_smi_traffic_split_splits_by_backend_weight_even_as_quantities() {
        let pods = [pod("stable-0", "s"), pod("canary-0", "c")];
        let ready: Vec<&Pod> = pods.iter().collect();
        let services = [service("api-stable", "s"), service("api-canary", "c")];
        let services: Vec<&Service> = services.iter().collect();
        let split = json!({"kind": "TrafficSplit", "metadata": {"name": "api", "namespace": "default"},
            "spec": {"service": "api", "backends": [
                {"service": "api-canary", "weight": "25"}, {"service": "api-stable", "weight": 75}]}});
        let shares = shares(&ready, &services, &[split]);
        let total: f64 = shares.values().sum();
        assert!((shares["default/canary-0"] / total - 0.25).abs() < 1e-9, "{shares:?}");
    }

    #[test]
    fn an_istio_virtual_service_splits_by_destination_weight() {
        let pods = [pod("stable-0", "s"), pod("stable-1", "s"), pod("canary-0", "c")];
        let ready: Vec<&Pod> = pods.iter().collect();
        let services = [service("api-stable", "s"), service("api-canary", "c")];
        let services: Vec<&Service> = services.iter().collect();
        let vs = json!({"kind": "VirtualService", "metadata": {"name": "api", "namespace": "default"},
            "spec": {"http": [{"route": [
                {"destination": {"host": "api-stable"}, "weight": 80},
                {"destination": {"host": "api-canary.default.svc.cluster.local"}, "weight": 20}]}]}});
        let mut with_header_route = vs.clone();
        with_header_route["spec"]["http"].as_array_mut().unwrap().insert(
            0,
            json!({"name": "header", "match": [{"headers": {"X-Canary": {"exact": "yes"}}}],
                "route": [{"destination": {"host": "api-canary"}, "weight": 100}]}),
        );
        let shares = shares(&ready, &services, &[vs]);
        let canary = shares["default/canary-0"];
        let total: f64 = shares.values().sum();
        assert!((canary / total - 0.20).abs() < 1e-9, "{shares:?}");
        assert_eq!(
            super::shares(&ready, &services, &[with_header_route]),
            shares,
            "no simulated request carries the header"
        );
    }

    #[test]
    fn counters_integrate_the_rate_of_each_moment() {
        let at = |s: i64| jiff::Timestamp::from_second(s).unwrap();
        let mut series = vec![PodSeries {
            job: "api".into(),
            namespace: "default".into(),
            pod: "canary-0".into(),
            hash: "c".into(),
            behaviour: super::super::behaviour::Behaviour::of(&BTreeMap::new(), "api:1"),
            serving_seconds: 10.0,
            requests: 0.0,
        }];
        let mut meter = Meter::default();
        let rate = |r: f64| HashMap::from([("default/canary-0".to_owned(), r)]);
        meter.observe(at(100), &mut series, &rate(1.0));
        assert!(
            (series[0].requests - 10.0).abs() < 1e-9,
            "counted from ready at the rate of now"
        );
        meter.observe(at(110), &mut series, &rate(5.0));
        assert!((series[0].requests - 60.0).abs() < 1e-9);
        meter.observe(at(120), &mut series, &rate(0.0));
        assert!(
            (series[0].requests - 60.0).abs() < 1e-9,
            "weight 0: no new requests, no reset"
        );
    }
}
