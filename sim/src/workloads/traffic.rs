//! Simulated requests follow the traffic routers: for a Gateway API route (`HTTPRoute`,
//! `GRPCRoute`) each rule's requests are split over its `backendRefs` by weight, for an Istio
//! `VirtualService` each HTTP route's over its destinations, and each backend's share is spread
//! over the ready pods its Service selects. So a 5% canary answers 5%
//! of the requests, whatever its share of pods.
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
            Some((key(namespace, name), weight))
        })
        .collect()
}

/// The weighted backend lists of a route object, one per rule (Gateway API) or HTTP route (Istio).
fn rules(route: &Value) -> Vec<Vec<(String, f64)>> {
    let namespace = route
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if route.get("kind").and_then(Value::as_str) == Some("VirtualService") {
        let http = route.pointer("/spec/http").and_then(Value::as_array);
        return http.into_iter().flatten().map(|r| destinations(r, namespace)).collect();
    }
    let rules = route.pointer("/spec/rules").and_then(Value::as_array);
    rules.into_iter().flatten().map(|r| backends(r, namespace)).collect()
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
    for route in routes {
        for rule in rules(route) {
            let backends: Vec<(Vec<String>, f64)> = rule
                .into_iter()
                .map(|(service, weight)| {
                    let pods = by_name.get(&service).map_or_else(Vec::new, |svc| {
                        ready.iter().filter(|p| selects(svc, p)).map(|p| pod_key(p)).collect()
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
    fn an_istio_virtual_service_splits_by_destination_weight() {
        let pods = [pod("stable-0", "s"), pod("stable-1", "s"), pod("canary-0", "c")];
        let ready: Vec<&Pod> = pods.iter().collect();
        let services = [service("api-stable", "s"), service("api-canary", "c")];
        let services: Vec<&Service> = services.iter().collect();
        let vs = json!({"kind": "VirtualService", "metadata": {"name": "api", "namespace": "default"},
            "spec": {"http": [{"route": [
                {"destination": {"host": "api-stable"}, "weight": 80},
                {"destination": {"host": "api-canary.default.svc.cluster.local"}, "weight": 20}]}]}});
        let shares = shares(&ready, &services, &[vs]);
        let canary = shares["default/canary-0"];
        let total: f64 = shares.values().sum();
        assert!((canary / total - 0.20).abs() < 1e-9, "{shares:?}");
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
