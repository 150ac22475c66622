//! Routers whose weighted object the Rollout creates and owns: NGINX's canary Ingress (from the
//! stable Ingress) and SMI's TrafficSplit, created at weight 0, weighted by step, owned by the
//! Rollout, and refused when another object controls the name.

use super::*;
use crate::rollout::traffic::{RouteTarget, Router};

fn with_router(routing: Value) -> World {
    let mut spec = canary(json!([{"setWeight": 20}, {"pause": {}}, {"setWeight": 60}, {"pause": {}}]));
    spec["strategy"]["canary"]["trafficRouting"] = routing;
    World::new(rollout(spec))
}

fn ingress(name: &str, source: Option<&str>) -> RouteTarget {
    RouteTarget {
        router: Router::Nginx,
        group: "networking.k8s.io",
        version: "v1",
        kind: "Ingress",
        plural: "ingresses",
        namespace: "default".into(),
        name: name.into(),
        routes: Vec::new(),
        source: source.map(str::to_owned),
    }
}

fn nginx_world() -> World {
    let mut w = with_router(json!({"nginx": {"stableIngress": "web"}}));
    w.snap.routes.insert(
        ingress("web", None),
        json!({"metadata": {"name": "web", "namespace": "default"}, "spec": {"rules": [{"host": "web.example",
            "http": {"paths": [{"path": "/", "pathType": "Prefix",
                "backend": {"service": {"name": "web-stable", "port": {"number": 80}}}}]}}]}}),
    );
    w
}

fn canary_weight(w: &World, target: &RouteTarget) -> Option<String> {
    let object = w.snap.routes.get(target)?;
    let weight = &object["metadata"]["annotations"]["nginx.ingress.kubernetes.io/canary-weight"];
    weight.as_str().map(str::to_owned)
}

#[test]
fn nginx_creates_the_canary_ingress_at_zero_then_weights_it_by_step() {
    let mut w = nginx_world();
    let canary = ingress("web-web-canary", Some("web"));
    w.settle();
    assert_eq!(
        canary_weight(&w, &canary).as_deref(),
        Some("0"),
        "the canary Ingress exists from the first deploy, sending nothing"
    );
    let writes = |w: &World| {
        w.plans
            .iter()
            .flat_map(|p| &p.actions)
            .filter(|a| matches!(a, Action::SetRouteWeights { .. }))
            .count()
    };
    let before = writes(&w);
    w.step();
    assert_eq!(writes(&w), before, "an unchanged split is not written again");
    w.set_image("web:2");
    w.settle();
    assert_eq!(canary_weight(&w, &canary).as_deref(), Some("20"));
    assert_eq!(w.counts("web:2").0, 2, "20% of 10 pods");
    assert_eq!(w.status().current_step_index, Some(1));
    let object = &w.snap.routes[&canary];
    assert_eq!(object["metadata"]["ownerReferences"][0]["uid"], "uid-web");
    assert_eq!(
        object["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"],
        "web-canary"
    );
    w.patch_status(json!({"pauseConditions": null}));
    w.settle();
    assert_eq!(canary_weight(&w, &canary).as_deref(), Some("60"));
    // Abort: weight 0 before the canary is scaled down.
    w.patch_status(json!({"abort": true}));
    w.settle();
    assert_eq!(canary_weight(&w, &canary).as_deref(), Some("0"));
}

#[test]
fn nginx_refuses_a_canary_ingress_it_does_not_control_and_a_missing_stable_ingress() {
    let mut w = nginx_world();
    w.snap.routes.insert(
        ingress("web-web-canary", Some("web")),
        json!({"metadata": {"name": "web-web-canary", "ownerReferences": [
            {"kind": "Rollout", "name": "other", "uid": "uid-other", "controller": true}]}}),
    );
    w.step();
    let message = w.phase().1;
    assert!(
        message.contains("Ingress default/web-web-canary exists and is not controlled by this Rollout (Rollout/other)"),
        "{message}"
    );
    let mut w = with_router(json!({"nginx": {"stableIngress": "web"}}));
    w.step();
    let message = w.phase().1;
    assert!(message.contains("Ingress default/web not found"), "{message}");
}

#[test]
fn smi_creates_a_traffic_split_named_after_the_rollout_and_weights_it() {
    let mut w = with_router(json!({"smi": {"rootService": "web"}}));
    let split = RouteTarget {
        router: Router::Smi,
        group: "split.smi-spec.io",
        version: "v1alpha1",
        kind: "TrafficSplit",
        plural: "trafficsplits",
        namespace: "default".into(),
        name: "web".into(),
        routes: Vec::new(),
        source: None,
    };
    w.settle();
    w.set_image("web:2");
    w.settle();
    let object = &w.snap.routes[&split];
    assert_eq!(
        object["spec"],
        json!({"service": "web", "backends": [
            {"service": "web-canary", "weight": 20}, {"service": "web-stable", "weight": 80}]})
    );
    assert_eq!(w.status().current_step_index, Some(1));
}
