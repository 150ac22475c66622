//! The traffic routing Sluice refuses (Argo's schema allows it; Sluice does not serve it yet or
//! the block cannot name anything): the controller reports these as InvalidSpec, and
//! `kubectl sluice lint` before anything is applied.

use super::super::Problems;
use crate::rollout::{GATEWAY_API_PLUGIN, Rollout};

const BASE: &str = "spec.strategy.canary.trafficRouting";

/// Adds the refusals of `rollout`'s canary traffic routing.
pub(super) fn routing(p: &mut Problems, rollout: &Rollout) {
    let Some(routing) = rollout.canary().and_then(|c| c.traffic_routing.as_ref()) else {
        return;
    };
    // Served: Istio, NGINX, SMI and the Gateway API plugin; every other router is refused.
    for name in routing
        .configured()
        .into_iter()
        .filter(|r| !matches!(*r, "istio" | "plugins" | "nginx" | "smi"))
    {
        p.add(format!("{BASE}.{name}"), "not supported yet");
    }
    for plugin in routing.unknown_plugins() {
        p.add(
            format!("{BASE}.plugins[{plugin:?}]"),
            format!("not supported (Sluice serves {GATEWAY_API_PLUGIN:?} natively)"),
        );
    }
    if let Some(istio) = &routing.istio {
        if let Some(rule) = &istio.destination_rule
            && (rule.name.is_empty() || rule.canary_subset_name.is_empty() || rule.stable_subset_name.is_empty())
        {
            p.add(
                format!("{BASE}.istio.destinationRule"),
                "name, canarySubsetName and stableSubsetName are required",
            );
        }
        if istio.virtual_service.is_none() && istio.virtual_services.is_empty() {
            p.add(format!("{BASE}.istio"), "names no virtualService");
        }
    }
    if let Some(nginx) = &routing.nginx {
        if nginx.stable_ingress.is_some() && !nginx.stable_ingresses.is_empty() {
            p.add(
                format!("{BASE}.nginx"),
                "set stableIngress or stableIngresses, not both",
            );
        }
        if nginx.stable_ingresses().is_empty() {
            p.add(format!("{BASE}.nginx.stableIngress"), "required");
        }
    }
    match routing.gateway_api() {
        Some(Ok(config)) if config.routes().is_empty() => p.add(
            format!("{BASE}.plugins[{GATEWAY_API_PLUGIN:?}]"),
            "names no route (httpRoute, httpRoutes, grpcRoute, grpcRoutes, tcpRoute or tcpRoutes)",
        ),
        Some(Err(error)) => p.add(format!("{BASE}.plugins[{GATEWAY_API_PLUGIN:?}]"), error),
        Some(Ok(_)) | None => {}
    }
}
