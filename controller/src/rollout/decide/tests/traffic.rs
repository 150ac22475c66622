//! The traffic-routed canary with a Gateway API HTTPRoute: pods by weight, the weight only once
//! the canary can take it, verification before a step completes, weight 0 first on abort, and the
//! delayed scale-down of the previous stable after promotion.

use super::*;
use crate::rollout::traffic::RouteTarget;

fn routed(steps: Value) -> Rollout {
    let mut spec = canary(steps);
    spec["strategy"]["canary"]["trafficRouting"] =
        json!({"plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "web-route"}}});
    rollout(spec)
}

fn target() -> RouteTarget {
    RouteTarget {
        router: crate::rollout::traffic::Router::GatewayApi,
        routes: Vec::new(),
        group: "gateway.networking.k8s.io",
        version: "v1",
        kind: "HTTPRoute",
        plural: "httproutes",
        namespace: "default".into(),
        name: "web-route".into(),
        source: None,
    }
}

fn with_route(rollout: Rollout) -> World {
    let mut w = World::new(rollout);
    w.snap.routes.insert(
        target(),
        json!({"spec": {"rules": [{"backendRefs": [
            {"name": "web-stable", "port": 80, "weight": 100}, {"name": "web-canary", "port": 80, "weight": 0}
        ]}]}}),
    );
    w
}

/// (stable, canary) weights on the route.
fn route_weights(w: &World) -> (i64, i64) {
    let route = &w.snap.routes[&target()];
    let weight = |i: usize| route["spec"]["rules"][0]["backendRefs"][i]["weight"].as_i64().unwrap();
    (weight(0), weight(1))
}

fn sets_weight(plan: &Plan) -> Option<i32> {
    plan.actions.iter().find_map(|a| match a {
        Action::SetRouteWeights { weight, .. } => Some(*weight),
        _ => None,
    })
}

#[test]
fn the_canary_gets_pods_by_weight_and_the_weight_only_once_its_pods_are_available() {
    let mut w = with_route(routed(
        json!([{"setWeight": 5}, {"pause": {}}, {"setWeight": 50}, {"pause": {}}]),
    ));
    w.settle();
    assert_eq!(
        route_weights(&w),
        (100, 0),
        "the first deploy routes nothing to the canary"
    );
    w.set_image("web:2");
    // The canary ReplicaSet is created for 5% of 10 pods (rounded up), stable keeps all 10.
    let plan = w.step();
    assert_eq!(sets_weight(&plan), None);
    let plan = w.step();
    assert_eq!(sets_weight(&plan), None, "no weight before the canary pod is available");
    assert_eq!((w.counts("web:2").0, w.counts("web:1").0), (1, 10));
    w.ready();
    let plan = w.step();
    assert_eq!(sets_weight(&plan), Some(5));
    assert_eq!(w.status().current_step_index, Some(0), "not verified yet");
    w.settle();
    assert_eq!(route_weights(&w), (95, 5));
    let status = w.status();
    assert_eq!(status.current_step_index, Some(1));
    let weights = status.canary.unwrap().weights.unwrap();
    assert_eq!(
        (weights.canary.weight, weights.stable.weight, weights.verified),
        (5, 95, Some(true))
    );
    assert_eq!(weights.canary.service_name.as_deref(), Some("web-canary"));
    assert_eq!(weights.canary.pod_template_hash, Some(w.hash_of_image("web:2")));
    assert!(
        w.events()
            .contains(&"TrafficWeightUpdated: Traffic weight updated from 0 to 5".to_string())
    );

    w.patch_status(json!({"pauseConditions": null}));
    w.settle();
    assert_eq!((w.counts("web:2"), w.counts("web:1")), ((5, 5), (10, 10)));
    assert_eq!(route_weights(&w), (50, 50));
}

#[test]
fn promotion_moves_the_stable_service_then_the_weight_back_and_keeps_the_old_pods_for_the_delay() {
    let mut w = with_route(routed(json!([{"setWeight": 50}])));
    w.settle();
    let old = w.hash_of_image("web:1");
    w.set_image("web:2");
    w.settle();
    let new = w.hash_of_image("web:2");
    let status = w.status();
    assert_eq!(status.stable_rs.as_deref(), Some(new.as_str()));
    assert_eq!(w.service_hash("web-stable").as_deref(), Some(new.as_str()));
    assert_eq!(
        route_weights(&w),
        (100, 0),
        "all traffic to the stable Service, now the new pods"
    );
    // The stable Service moved before the weight went back to 0, in one plan.
    let plan = w.plans.iter().find(|p| sets_weight(p) == Some(0)).unwrap();
    let switch = plan
        .actions
        .iter()
        .position(|a| matches!(a, Action::SwitchService { name, .. } if name == "web-stable"));
    let route = plan
        .actions
        .iter()
        .position(|a| matches!(a, Action::SetRouteWeights { .. }));
    assert!(switch < route, "{:?}", plan.actions);
    assert_eq!(
        w.counts("web:1").0,
        10,
        "the old stable stays up for scaleDownDelaySeconds"
    );
    assert_eq!(decide(&w.snap).requeue_at, Some(t0() + SignedDuration::from_secs(30)));
    w.advance(30);
    w.settle();
    assert_eq!(w.counts("web:1").0, 0);
    assert_ne!(old, new);
    assert_eq!(w.phase().0, Some(RolloutPhase::Healthy));
}

#[test]
fn an_abort_sets_weight_zero_first_and_scales_the_canary_down_after_the_delay() {
    let mut w = with_route(routed(json!([{"setWeight": 20}, {"pause": {}}])));
    w.settle();
    w.set_image("web:2");
    w.settle();
    assert_eq!(route_weights(&w), (80, 20));
    w.patch_status(json!({"abort": true, "abortedAt": t0().to_string(), "pauseConditions": null}));
    let plan = w.step();
    assert_eq!(sets_weight(&plan), Some(0));
    assert!(
        !plan.actions.iter().any(|a| matches!(a, Action::ScaleReplicaSet { .. })),
        "no scaling before the weight is 0: {:?}",
        plan.actions
    );
    w.settle();
    assert_eq!(route_weights(&w), (100, 0));
    assert_eq!(w.counts("web:2").0, 2, "kept for abortScaleDownDelaySeconds");
    w.advance(30);
    w.settle();
    assert_eq!((w.counts("web:2").0, w.counts("web:1").0), (0, 10));
    assert_eq!(w.phase().0, Some(RolloutPhase::Degraded));
}

#[test]
fn set_canary_scale_sizes_the_canary_apart_from_its_weight() {
    let mut w = with_route(routed(json!([
        {"setCanaryScale": {"replicas": 3}}, {"setWeight": 10}, {"pause": {}},
        {"setCanaryScale": {"matchTrafficWeight": true}}, {"pause": {}}
    ])));
    w.settle();
    w.set_image("web:2");
    w.settle();
    assert_eq!(w.status().current_step_index, Some(2));
    assert_eq!((w.counts("web:2").0, route_weights(&w)), (3, (90, 10)));
    w.patch_status(json!({"pauseConditions": null}));
    w.settle();
    assert_eq!(w.status().current_step_index, Some(4));
    assert_eq!(w.counts("web:2").0, 1, "matchTrafficWeight: 10% of 10 pods");
}

#[test]
fn a_missing_route_or_an_unknown_router_is_an_invalid_spec() {
    let mut w = World::new(routed(json!([{"setWeight": 10}])));
    w.step();
    assert!(
        w.phase()
            .1
            .contains("spec.strategy.canary.trafficRouting: HTTPRoute default/web-route not found"),
        "{}",
        w.phase().1
    );
    let mut w = with_route(routed(json!([{"setWeight": 10}])));
    w.snap.routes.insert(
        target(),
        json!({"spec": {"rules": [{"backendRefs": [{"name": "web-stable"}]}]}}),
    );
    w.step();
    assert!(
        w.phase().1.contains("no rule of spec.rules has backendRefs to both"),
        "{}",
        w.phase().1
    );
    let mut spec = canary(json!([{"setWeight": 10}]));
    spec["strategy"]["canary"]["trafficRouting"] = json!({"plugins": {"acme/mesh": {}}, "alb": {"ingress": "web"}, "istio": {"destinationRule": {"name": "dr", "canarySubsetName": "c", "stableSubsetName": "s"}}});
    let mut w = World::new(rollout(spec));
    w.step();
    let message = w.phase().1;
    assert!(message.contains("trafficRouting.alb: not supported yet"), "{message}");
    assert!(
        message.contains("trafficRouting.istio: names no virtualService"),
        "{message}"
    );
    assert!(
        message.contains("trafficRouting.plugins[\"acme/mesh\"]: not supported"),
        "{message}"
    );
}

#[test]
fn dynamic_stable_scale_shrinks_stable_only_once_traffic_left_it_and_the_canary_as_traffic_leaves_on_abort() {
    let mut spec = canary(json!([{"setWeight": 30}, {"pause": {}}, {"setWeight": 80}, {"pause": {}}]));
    spec["strategy"]["canary"]["trafficRouting"] =
        json!({"plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "web-route"}}});
    spec["strategy"]["canary"]["dynamicStableScale"] = json!(true);
    let mut w = with_route(rollout(spec));
    w.settle();
    w.set_image("web:2");
    w.settle();
    assert_eq!(route_weights(&w), (70, 30));
    // 30% of 10 is 3 canary pods; stable shrinks to 70% only after the weight moved.
    assert_eq!((w.counts("web:2").0, w.counts("web:1").0), (3, 7));
    w.patch_status(json!({"pauseConditions": null}));
    // The weight rises to 80 once the canary has 8 pods; until then stable keeps 7.
    w.step();
    assert_eq!(w.counts("web:1").0, 7, "stable keeps its pods while it carries 70%");
    w.settle();
    assert_eq!(route_weights(&w), (20, 80));
    assert_eq!((w.counts("web:2").0, w.counts("web:1").0), (8, 2));
    // Abort: stable grows back before the weight returns; the canary shrinks with its traffic.
    w.patch_status(json!({"abort": true}));
    let plan = w.step();
    assert_eq!(
        sets_weight(&plan),
        None,
        "no weight back to stable before stable has its pods"
    );
    assert_eq!(w.counts("web:1").0, 10);
    assert_eq!(w.counts("web:2").0, 8, "the canary still carries 80%");
    // Once the stable pods are available the traffic goes back, then the canary goes.
    w.ready();
    assert_eq!(sets_weight(&w.step()), Some(0));
    w.settle();
    assert_eq!(route_weights(&w), (100, 0));
    assert_eq!((w.counts("web:2").0, w.counts("web:1").0), (0, 10), "no abort delay");
}
