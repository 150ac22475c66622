//! Header and mirror routes in an Istio VirtualService: added first in `spec.http` as their steps
//! are reached (in `managedRoutes` order), removed by a step without `match`, and all removed on
//! abort; the weighted route keeps its weights.

use super::*;
use crate::rollout::traffic::{RouteTarget, Router};

fn target() -> RouteTarget {
    RouteTarget {
        router: Router::Istio,
        group: "networking.istio.io",
        version: "v1beta1",
        kind: "VirtualService",
        plural: "virtualservices",
        namespace: "default".into(),
        name: "web-vs".into(),
        routes: vec!["primary".into()],
        source: None,
    }
}

fn world() -> World {
    let mut spec = canary(json!([
        {"setWeight": 20},
        {"setHeaderRoute": {"name": "header", "match": [{"headerName": "X-Canary", "headerValue": {"exact": "yes"}}]}},
        {"setMirrorRoute": {"name": "mirror", "percentage": 30, "match": [{"method": {"exact": "GET"}, "path": {"prefix": "/api"}}]}},
        {"pause": {}},
        {"setHeaderRoute": {"name": "header"}},
        {"pause": {}}
    ]));
    spec["strategy"]["canary"]["trafficRouting"] = json!({
        "managedRoutes": [{"name": "mirror"}, {"name": "header"}],
        "istio": {"virtualService": {"name": "web-vs", "routes": ["primary"]}}});
    let mut w = World::new(rollout(spec));
    w.snap.routes.insert(
        target(),
        json!({"spec": {"http": [{"name": "primary", "route": [
            {"destination": {"host": "web-stable", "port": {"number": 80}}, "weight": 100},
            {"destination": {"host": "web-canary", "port": {"number": 80}}, "weight": 0}]}]}}),
    );
    w
}

fn names(w: &World) -> Vec<String> {
    let vs = &w.snap.routes[&target()];
    vs["spec"]["http"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn header_and_mirror_routes_come_and_go_with_their_steps() {
    let mut w = world();
    w.settle();
    assert_eq!(names(&w), ["primary"]);
    w.set_image("web:2");
    w.settle();
    assert_eq!(
        w.status().current_step_index,
        Some(3),
        "the route steps completed once carried"
    );
    assert_eq!(names(&w), ["mirror", "header", "primary"]);
    let vs = w.snap.routes[&target()].clone();
    assert_eq!(
        vs["spec"]["http"][1],
        json!({"name": "header", "match": [{"headers": {"X-Canary": {"exact": "yes"}}}],
            "route": [{"destination": {"host": "web-canary", "port": {"number": 80}}, "weight": 100}]})
    );
    let mirror = &vs["spec"]["http"][0];
    assert_eq!(
        mirror["match"],
        json!([{"method": {"exact": "GET"}, "uri": {"prefix": "/api"}}])
    );
    assert_eq!(mirror["mirror"], json!({"host": "web-canary", "port": {"number": 80}}));
    assert_eq!(mirror["mirrorPercentage"], json!({"value": 30.0}));
    assert_eq!(
        mirror["route"], vs["spec"]["http"][2]["route"],
        "mirrored from the weighted route"
    );
    assert_eq!(vs["spec"]["http"][2]["route"][1]["weight"], json!(20));

    w.patch_status(json!({"pauseConditions": null}));
    w.settle();
    assert_eq!(w.status().current_step_index, Some(5));
    assert_eq!(
        names(&w),
        ["mirror", "primary"],
        "a step without match removes its route"
    );

    w.patch_status(json!({"abort": true}));
    w.settle();
    assert_eq!(names(&w), ["primary"], "an abort removes every managed route");
    assert_eq!(
        w.snap.routes[&target()]["spec"]["http"][0]["route"][1]["weight"],
        json!(0)
    );
}

/// The Gateway API route of the tests, weighted 100/0, in `w`.
fn with_http_route(w: &mut World) -> RouteTarget {
    let route = RouteTarget {
        router: Router::GatewayApi,
        group: "gateway.networking.k8s.io",
        version: "v1",
        kind: "HTTPRoute",
        plural: "httproutes",
        namespace: "default".into(),
        name: "web-route".into(),
        routes: Vec::new(),
        source: None,
    };
    w.snap.routes.insert(
        route.clone(),
        json!({"spec": {"rules": [{"backendRefs": [
            {"name": "web-stable", "port": 80, "weight": 100}, {"name": "web-canary", "port": 80, "weight": 0}]}]}}),
    );
    route
}

#[test]
fn a_gateway_api_header_route_is_a_named_rule_to_the_canary_removed_on_abort() {
    let mut spec = canary(json!([
        {"setWeight": 10},
        {"setHeaderRoute": {"name": "beta", "match": [{"headerName": "X-Beta", "headerValue": {"prefix": "v2."}}]}},
        {"pause": {}}
    ]));
    spec["strategy"]["canary"]["trafficRouting"] = json!({
        "managedRoutes": [{"name": "beta"}],
        "plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "web-route"}}});
    let mut w = World::new(rollout(spec));
    let route = with_http_route(&mut w);
    w.settle();
    w.set_image("web:2");
    w.settle();
    assert_eq!(w.status().current_step_index, Some(2));
    let rules = w.snap.routes[&route]["spec"]["rules"].clone();
    assert_eq!(rules[0]["backendRefs"][1]["weight"], json!(10));
    assert_eq!(
        rules[1],
        json!({"name": "beta", "matches": [{"headers": [{"name": "X-Beta", "type": "RegularExpression", "value": "^v2\\..*"}]}],
            "backendRefs": [{"name": "web-canary", "port": 80}]})
    );
    w.patch_status(json!({"abort": true}));
    w.settle();
    assert_eq!(w.snap.routes[&route]["spec"]["rules"].as_array().unwrap().len(), 1);
}

#[test]
fn a_gateway_api_mirror_route_keeps_the_weighted_backends_and_mirrors_a_share_to_the_canary() {
    let mut spec = canary(json!([
        {"setWeight": 10},
        {"setMirrorRoute": {"name": "shadow", "percentage": 25, "match": [{"method": {"exact": "GET"}, "path": {"prefix": "/api"}}]}},
        {"pause": {}}
    ]));
    spec["strategy"]["canary"]["trafficRouting"] = json!({
        "managedRoutes": [{"name": "shadow"}],
        "plugins": {"argoproj-labs/gatewayAPI": {"httpRoutes": [{"name": "web-route", "useHeaderRoutes": true}]}}});
    let mut w = World::new(rollout(spec));
    let route = with_http_route(&mut w);
    w.settle();
    w.set_image("web:2");
    w.settle();
    assert_eq!(w.status().current_step_index, Some(2));
    let rules = w.snap.routes[&route]["spec"]["rules"].clone();
    assert_eq!(
        rules[1],
        json!({"name": "shadow",
            "matches": [{"method": "GET", "path": {"type": "PathPrefix", "value": "/api"}}],
            "backendRefs": rules[0]["backendRefs"],
            "filters": [{"type": "RequestMirror", "requestMirror": {"backendRef": {"name": "web-canary", "port": 80}, "percent": 25}}]})
    );
}
