//! Traffic routers: the objects a traffic-routed canary writes its weights to (Argo's
//! `rollout/trafficrouting.go` and its `TrafficRoutingReconciler` interface), one file per router.
//!
//! Everything here is pure: the snapshot carries each router object as read, a router computes the
//! JSON Patch that gives it the wanted weights (empty when it has them already) and reads back the
//! weight it carries, which is how a step knows its weight is in effect (`trafficWeightVerified`).

pub mod gateway_api;
pub mod istio;

use crds::Rollout;
use serde_json::Value;

/// Field manager of the routers' writes: their fields are told apart from those the user's own
/// tool (Argo CD, `kubectl apply`) owns, so diffs can ignore exactly them.
pub const FIELD_MANAGER: &str = "sluice-traffic-router";

/// Which router an object belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Router {
    /// Gateway API routes (`gateway_api.rs`).
    GatewayApi,
    /// Istio VirtualServices (`istio.rs`).
    Istio,
}

/// A router object a Rollout drives.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RouteTarget {
    /// The router that knows the object's shape.
    pub router: Router,
    /// API group.
    pub group: &'static str,
    /// API version.
    pub version: &'static str,
    /// Kind.
    pub kind: &'static str,
    /// Resource plural.
    pub plural: &'static str,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// The routes inside the object to manage (Istio's HTTP route names; empty: all, or the only one).
    pub routes: Vec<String>,
}

impl RouteTarget {
    /// The object's type, for a dynamic client.
    #[must_use]
    pub fn api_resource(&self) -> kube::api::ApiResource {
        kube::api::ApiResource {
            group: self.group.to_owned(),
            version: self.version.to_owned(),
            api_version: format!("{}/{}", self.group, self.version),
            kind: self.kind.to_owned(),
            plural: self.plural.to_owned(),
        }
    }
}

impl std::fmt::Display for RouteTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
    }
}

/// The split a router is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Split<'a> {
    /// The Service of the canary pods.
    pub canary_service: &'a str,
    /// The Service of the stable pods.
    pub stable_service: &'a str,
    /// The canary's weight.
    pub canary_weight: i32,
    /// The total weight (`maxTrafficWeight`, 100 by default); stable gets the rest.
    pub max_weight: i32,
}

/// What is wrong with a router object, named by the object and field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// The object does not exist.
    #[error("{0} not found")]
    NotFound(Box<RouteTarget>),
    /// No rule of the route sends traffic to both Services.
    #[error("{target}: no rule of spec.rules has backendRefs to both {stable:?} and {canary:?}")]
    NoBackends {
        /// The route.
        target: Box<RouteTarget>,
        /// Stable Service.
        stable: String,
        /// Canary Service.
        canary: String,
    },
    /// No managed route of the VirtualService has destinations for both Services.
    #[error(
        "{target}: spec.http needs a route the Rollout names (or a single route) with destinations for both {stable:?} and {canary:?}"
    )]
    NoDestinations {
        /// The VirtualService.
        target: Box<RouteTarget>,
        /// Stable Service.
        stable: String,
        /// Canary Service.
        canary: String,
    },
}

/// The router objects of a Rollout, or why its routing cannot be served (reported as InvalidSpec).
///
/// # Errors
/// A router block Sluice does not serve yet, a plugin other than Gateway API, or a Gateway API
/// configuration that does not parse.
pub fn targets(rollout: &Rollout) -> Result<Vec<RouteTarget>, Vec<String>> {
    let Some(routing) = rollout.canary().and_then(|c| c.traffic_routing.as_ref()) else {
        return Ok(Vec::new());
    };
    let base = "spec.strategy.canary.trafficRouting";
    let mut problems = Vec::new();
    // Served: Istio and the Gateway API plugin; every other router is refused.
    for name in routing
        .configured()
        .into_iter()
        .filter(|r| !matches!(*r, "istio" | "plugins"))
    {
        problems.push(format!("{base}.{name}: not supported yet"));
    }
    for plugin in routing.unknown_plugins() {
        problems.push(format!(
            "{base}.plugins[{plugin:?}]: not supported (Sluice serves {:?} natively)",
            crds::rollout::GATEWAY_API_PLUGIN
        ));
    }
    let namespace = rollout.metadata.namespace.clone().unwrap_or_default();
    let mut targets = Vec::new();
    if let Some(istio) = &routing.istio {
        targets.extend(istio_targets(istio, &namespace, &mut problems));
    }
    match routing.gateway_api() {
        Some(Ok(config)) => {
            let routes = gateway_api::targets(&config, &namespace);
            if routes.is_empty() {
                problems.push(format!(
                    "{base}.plugins[{:?}]: names no route (httpRoute, httpRoutes, grpcRoute, grpcRoutes, tcpRoute or tcpRoutes)",
                    crds::rollout::GATEWAY_API_PLUGIN
                ));
            }
            targets.extend(routes);
        }
        Some(Err(error)) => problems.push(format!(
            "{base}.plugins[{:?}]: {error}",
            crds::rollout::GATEWAY_API_PLUGIN
        )),
        None => {}
    }
    if problems.is_empty() {
        Ok(targets)
    } else {
        Err(problems)
    }
}

/// Istio's VirtualServices, with what of Istio's routing is not served yet.
fn istio_targets(
    istio: &crds::rollout::IstioTrafficRouting,
    namespace: &str,
    problems: &mut Vec<String>,
) -> Vec<RouteTarget> {
    let base = "spec.strategy.canary.trafficRouting.istio";
    if istio.destination_rule.is_some() {
        problems.push(format!(
            "{base}.destinationRule: subset-level splitting is not supported yet"
        ));
    }
    let services = istio.virtual_service.iter().chain(&istio.virtual_services);
    for (i, vs) in services.enumerate() {
        if !vs.tls_routes.is_empty() || !vs.tcp_routes.is_empty() {
            problems.push(format!(
                "{base}.virtualServices[{i}]: tlsRoutes and tcpRoutes are not supported yet"
            ));
        }
    }
    let targets = istio::targets(istio, namespace);
    if targets.is_empty() {
        problems.push(format!("{base}: names no virtualService"));
    }
    targets
}

/// The JSON Patch operations that give weighted entries their weights, the same for every router:
/// each `(path, entry)` that `side` names the canary (`Some(true)`) or the stable
/// (`Some(false)`) and whose `current` weight differs gets a `test` of the field at `guard` (what
/// identifies it, so an object edited meanwhile fails the patch) and an `add` of its weight.
fn weight_ops<'a>(
    entries: impl IntoIterator<Item = (String, &'a Value)>,
    side: impl Fn(&Value) -> Option<bool>,
    current: impl Fn(&Value) -> Option<i64>,
    guard: &str,
    split: &Split<'_>,
) -> Vec<Value> {
    let stable_weight = (split.max_weight - split.canary_weight).max(0);
    let mut ops = Vec::new();
    for (path, entry) in entries {
        let wanted = match side(entry) {
            Some(true) => split.canary_weight,
            Some(false) => stable_weight,
            None => continue,
        };
        if current(entry) == Some(i64::from(wanted)) {
            continue;
        }
        let value = entry.pointer(guard).cloned().unwrap_or(Value::Null);
        ops.push(serde_json::json!({"op": "test", "path": format!("{path}{guard}"), "value": value}));
        ops.push(serde_json::json!({"op": "add", "path": format!("{path}/weight"), "value": wanted}));
    }
    ops
}

/// The JSON Patch giving `object` the split (empty when it has it already).
///
/// # Errors
/// When the object cannot carry the split ([`RouteError`]).
pub fn patch(target: &RouteTarget, object: &Value, split: &Split<'_>) -> Result<Vec<Value>, RouteError> {
    match target.router {
        Router::GatewayApi => gateway_api::patch(target, object, split),
        Router::Istio => istio::patch(target, object, split),
    }
}

/// The canary weight `object` carries now, as a share of `split.max_weight`.
#[must_use]
pub fn canary_weight(target: &RouteTarget, object: &Value, split: &Split<'_>) -> Option<i32> {
    match target.router {
        Router::GatewayApi => gateway_api::canary_weight(object, split),
        Router::Istio => istio::canary_weight(target, object, split),
    }
}
