//! Canary strategy validation: steps, services, traffic routing, surge and delays.

use std::collections::BTreeSet;

use super::super::{Problems, is_templated, join_and};
use super::{anti_affinity, int_or_percent, revision_limit, rollout_analysis};
use crate::duration;
use crate::rollout::{CanaryStep, CanaryStrategy, RolloutSpec, RolloutTrafficRouting};

const BASE: &str = "spec.strategy.canary";

pub(super) fn validate(p: &mut Problems, spec: &RolloutSpec, canary: &CanaryStrategy) {
    services(p, canary);
    surge(p, canary);
    traffic_only_fields(p, canary);
    revision_limit(p, BASE, spec, canary.scale_down_delay_revision_limit);
    if let Some(routing) = &canary.traffic_routing {
        traffic_routing(p, routing);
    }
    if let Some(anti) = &canary.anti_affinity {
        anti_affinity(p, &format!("{BASE}.antiAffinity"), anti);
    }
    if let Some(threshold) = &canary.replica_progress_threshold {
        let path = format!("{BASE}.replicaProgressThreshold");
        match threshold.kind.as_str() {
            "Percent" => p.in_range(&format!("{path}.value"), threshold.value, 0, 100),
            "Pods" => p.non_negative(&format!("{path}.value"), Some(threshold.value)),
            other => p.add(
                format!("{path}.type"),
                format!("{other:?} is not one of Percent or Pods"),
            ),
        }
    }
    if let Some(background) = &canary.analysis {
        let path = format!("{BASE}.analysis");
        rollout_analysis(p, &path, &background.analysis);
        let steps = i32::try_from(canary.steps.len()).unwrap_or(i32::MAX);
        if let Some(start) = background.starting_step {
            p.in_range(&format!("{path}.startingStep"), start, 0, steps);
        }
    }
    for (i, step) in canary.steps.iter().enumerate() {
        self::step(p, canary, &format!("{BASE}.steps[{i}]"), step);
    }
}

fn services(p: &mut Problems, canary: &CanaryStrategy) {
    let canary_svc = canary.canary_service.as_deref().filter(|s| !s.is_empty());
    let stable_svc = canary.stable_service.as_deref().filter(|s| !s.is_empty());
    if canary_svc.is_some() && canary_svc == stable_svc {
        p.add(BASE, "canaryService and stableService must differ");
    }
    if let Some(ping_pong) = &canary.ping_pong {
        if ping_pong.ping_service.is_empty() || ping_pong.pong_service.is_empty() {
            p.add(
                format!("{BASE}.pingPong"),
                "pingService and pongService are both required",
            );
        } else if ping_pong.ping_service == ping_pong.pong_service {
            p.add(format!("{BASE}.pingPong"), "pingService and pongService must differ");
        }
        if canary.traffic_routing.is_none() {
            p.add(format!("{BASE}.pingPong"), "requires trafficRouting");
        }
    } else if let Some(routing) = &canary.traffic_routing
        // Istio's subset-level splitting routes by DestinationRule subsets, not by Service.
        && routing.istio.as_ref().is_none_or(|i| i.destination_rule.is_none())
    {
        if canary_svc.is_none() {
            p.add(format!("{BASE}.canaryService"), "required when trafficRouting is set");
        }
        if stable_svc.is_none() {
            p.add(format!("{BASE}.stableService"), "required when trafficRouting is set");
        }
    }
}

fn surge(p: &mut Problems, canary: &CanaryStrategy) {
    let surge = canary
        .max_surge
        .as_ref()
        .map(|v| int_or_percent(p, &format!("{BASE}.maxSurge"), v));
    let unavailable = canary
        .max_unavailable
        .as_ref()
        .map(|v| int_or_percent(p, &format!("{BASE}.maxUnavailable"), v));
    if surge == Some(Some(0)) && unavailable == Some(Some(0)) {
        p.add(BASE, "maxSurge and maxUnavailable cannot both be 0");
    }
}

/// Fields that only mean something with a traffic router.
fn traffic_only_fields(p: &mut Problems, canary: &CanaryStrategy) {
    let routed = canary.traffic_routing.is_some();
    let mut only_routed = |set: bool, field: &str| {
        if set && !routed {
            p.add(format!("{BASE}.{field}"), "can only be used with trafficRouting");
        }
    };
    only_routed(canary.scale_down_delay_seconds.is_some(), "scaleDownDelaySeconds");
    only_routed(
        canary.abort_scale_down_delay_seconds.is_some(),
        "abortScaleDownDelaySeconds",
    );
    only_routed(canary.dynamic_stable_scale == Some(true), "dynamicStableScale");
    only_routed(canary.min_pods_per_replica_set.is_some(), "minPodsPerReplicaSet");
    p.non_negative(
        &format!("{BASE}.scaleDownDelaySeconds"),
        canary.scale_down_delay_seconds,
    );
    p.non_negative(
        &format!("{BASE}.abortScaleDownDelaySeconds"),
        canary.abort_scale_down_delay_seconds,
    );
    if canary.dynamic_stable_scale == Some(true) && canary.scale_down_delay_seconds.is_some() {
        p.add(
            BASE,
            "dynamicStableScale and scaleDownDelaySeconds cannot be used together",
        );
    }
    if let Some(min) = canary.min_pods_per_replica_set.filter(|m| *m < 1) {
        p.add(
            format!("{BASE}.minPodsPerReplicaSet"),
            format!("{min} must be at least 1"),
        );
    }
}

fn traffic_routing(p: &mut Problems, routing: &RolloutTrafficRouting) {
    let path = format!("{BASE}.trafficRouting");
    let routers = routing.configured();
    if routers.is_empty() {
        p.add(&path, "at least one traffic router is required");
    }
    if let Some(max) = routing.max_traffic_weight {
        if routing.nginx.is_none() && routing.plugins.is_none() {
            p.add(
                format!("{path}.maxTrafficWeight"),
                "is only supported with nginx or plugins",
            );
        }
        if max < 1 {
            p.add(format!("{path}.maxTrafficWeight"), format!("{max} must be at least 1"));
        }
    }
    let mut seen = BTreeSet::new();
    for (i, route) in routing.managed_routes.iter().enumerate() {
        if route.name.is_empty() {
            p.add(format!("{path}.managedRoutes[{i}].name"), "required");
        } else if !seen.insert(route.name.as_str()) {
            p.add(
                format!("{path}.managedRoutes[{i}].name"),
                format!("duplicate route {:?}", route.name),
            );
        }
    }
}

/// JSON names of the actions a step sets.
fn actions(step: &CanaryStep) -> Vec<&'static str> {
    crate::meta::set_fields([
        ("setWeight", step.set_weight.is_some()),
        ("pause", step.pause.is_some()),
        ("analysis", step.analysis.is_some()),
        ("experiment", step.experiment.is_some()),
        ("setCanaryScale", step.set_canary_scale.is_some()),
        ("setHeaderRoute", step.set_header_route.is_some()),
        ("setMirrorRoute", step.set_mirror_route.is_some()),
        ("plugin", step.plugin.is_some()),
    ])
}

fn step(p: &mut Problems, canary: &CanaryStrategy, path: &str, step: &CanaryStep) {
    let set = actions(step);
    match set.len() {
        1 => {}
        0 => {
            p.add(
                path,
                "must set exactly one of setWeight, pause, analysis, experiment, setCanaryScale, setHeaderRoute, setMirrorRoute or plugin",
            );
            return;
        }
        _ => {
            p.add(
                path,
                format!("sets {}; a step must set exactly one action", join_and(&set)),
            );
            return;
        }
    }
    let routing = canary.traffic_routing.as_ref();
    let routers = routing.map(RolloutTrafficRouting::configured).unwrap_or_default();
    if let Some(weight) = step.set_weight {
        p.in_range(
            &format!("{path}.setWeight"),
            weight,
            0,
            canary.effective_max_traffic_weight(),
        );
    }
    if let Some(duration) = step.pause.as_ref().and_then(|pause| pause.duration.as_ref()) {
        let field = format!("{path}.pause.duration");
        match duration::parse_int_or_string(duration) {
            Ok(d) if d.as_nanos() < 0 => p.add(field, format!("{d} must not be negative")),
            Ok(_) => {}
            Err(e) => p.add(field, e.to_string()),
        }
    }
    if let Some(analysis) = &step.analysis {
        rollout_analysis(p, &format!("{path}.analysis"), analysis);
    }
    if let Some(scale) = &step.set_canary_scale {
        let field = format!("{path}.setCanaryScale");
        if routing.is_none() {
            p.add(&field, "requires trafficRouting");
        }
        let chosen = [
            scale.weight.is_some(),
            scale.replicas.is_some(),
            scale.match_traffic_weight == Some(true),
        ];
        if chosen.iter().filter(|on| **on).count() != 1 {
            p.add(&field, "exactly one of weight, replicas or matchTrafficWeight");
        }
        if let Some(weight) = scale.weight {
            p.in_range(&format!("{field}.weight"), weight, 0, 100);
        }
        p.non_negative(&format!("{field}.replicas"), scale.replicas);
    }
    if let Some(route) = &step.set_header_route {
        let field = format!("{path}.setHeaderRoute");
        if !routers
            .iter()
            .any(|r| ["istio", "alb", "apisix", "plugins"].contains(r))
        {
            p.add(&field, "requires trafficRouting with istio, alb, apisix or plugins");
        }
        managed_route(p, &field, &route.name, routing);
        for (i, m) in route.matches.iter().enumerate() {
            if m.header_name.is_empty() {
                p.add(format!("{field}.match[{i}].headerName"), "required");
            }
        }
    }
    if let Some(route) = &step.set_mirror_route {
        let field = format!("{path}.setMirrorRoute");
        if !routers.iter().any(|r| ["istio", "plugins"].contains(r)) {
            p.add(&field, "requires trafficRouting with istio or plugins");
        }
        managed_route(p, &field, &route.name, routing);
        if let Some(percentage) = route.percentage {
            p.in_range(&format!("{field}.percentage"), percentage, 0, 100);
        }
    }
    if let Some(experiment) = &step.experiment {
        let field = format!("{path}.experiment");
        if experiment.templates.is_empty() {
            p.add(format!("{field}.templates"), "at least one template is required");
        }
        for (i, template) in experiment.templates.iter().enumerate() {
            let t = format!("{field}.templates[{i}]");
            if template.spec_ref != "canary" && template.spec_ref != "stable" {
                p.add(
                    format!("{t}.specRef"),
                    format!("{:?} is not one of canary or stable", template.spec_ref),
                );
            }
            if template.weight.is_some() && routing.is_none() {
                p.add(format!("{t}.weight"), "can only be used with trafficRouting");
            }
            p.non_negative(&format!("{t}.replicas"), template.replicas);
        }
        if let Some(text) = experiment.duration.as_deref().filter(|d| !is_templated(d))
            && let Err(e) = duration::parse(text)
        {
            p.add(format!("{field}.duration"), e.to_string());
        }
        for (i, analysis) in experiment.analyses.iter().enumerate() {
            if analysis.template_name.is_empty() {
                p.add(format!("{field}.analyses[{i}].templateName"), "required");
            }
        }
    }
    if let Some(plugin) = &step.plugin
        && plugin.name.is_empty()
    {
        p.add(format!("{path}.plugin.name"), "required");
    }
}

fn managed_route(p: &mut Problems, field: &str, name: &str, routing: Option<&RolloutTrafficRouting>) {
    if name.is_empty() {
        p.add(format!("{field}.name"), "required");
        return;
    }
    let listed = routing.is_some_and(|r| r.managed_routes.iter().any(|m| m.name == name));
    if !listed {
        p.add(
            format!("{field}.name"),
            format!("{name:?} is not listed in trafficRouting.managedRoutes"),
        );
    }
}
