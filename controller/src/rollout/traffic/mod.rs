//! Traffic routers: the objects a traffic-routed canary writes its weights to (Argo's
//! `rollout/trafficrouting.go` and its `TrafficRoutingReconciler` interface), behind one trait,
//! [`TrafficRouter`], one file (or folder) per router.
//!
//! Everything here is pure: the snapshot carries each router object as read, a router computes the
//! write that gives it the wanted weights (none when it has them already) and reads back the
//! weight it carries, which is how a step knows its weight is in effect (`trafficWeightVerified`).
//! Two shapes of router: those that weight an object the user owns (Gateway API routes, Istio
//! VirtualServices) get a JSON Patch of the weight fields alone; those whose weighted object the
//! Rollout creates and owns (NGINX's canary Ingress, SMI's TrafficSplit) get it server-side
//! applied whole.

pub mod gateway_api;
pub mod istio;
pub mod managed;
pub mod nginx;
pub mod owned;
pub mod smi;

use std::collections::BTreeMap;

use crds::Rollout;
use serde_json::Value;

/// Which router an object belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Router {
    /// Gateway API routes (`gateway_api.rs`).
    GatewayApi,
    /// Istio VirtualServices (`istio/`).
    Istio,
    /// Istio DestinationRules: the subsets' pod-template hashes (`istio/subsets.rs`), no weight.
    IstioSubsets,
    /// NGINX canary Ingresses (`nginx.rs`), created from the stable Ingress.
    Nginx,
    /// SMI TrafficSplits (`smi.rs`), created.
    Smi,
}

impl Router {
    /// Whether the object carries a weight (a DestinationRule carries the subsets' hashes only).
    #[must_use]
    pub fn carries_weight(self) -> bool {
        self != Self::IstioSubsets
    }

    /// Whether the Rollout creates and owns the weighted object (rather than patching the user's).
    #[must_use]
    pub fn owns_object(self) -> bool {
        matches!(self, Self::Nginx | Self::Smi)
    }

    /// The router's name as users write it under `trafficRouting`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::GatewayApi => "gatewayAPI",
            Self::Istio | Self::IstioSubsets => "istio",
            Self::Nginx => "nginx",
            Self::Smi => "smi",
        }
    }
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
    /// The object of the same kind and namespace the weighted one is built from (NGINX's stable
    /// Ingress), read with it.
    pub source: Option<String>,
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

impl RouteTarget {
    /// The object this one is built from, as a target of its own (to read it).
    #[must_use]
    pub fn source_target(&self) -> Option<Self> {
        Some(Self {
            name: self.source.clone()?,
            source: None,
            routes: Vec::new(),
            ..self.clone()
        })
    }
}

impl std::fmt::Display for RouteTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
    }
}

/// The split a router is asked for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Split<'a> {
    /// The Service of the canary pods.
    pub canary_service: &'a str,
    /// The Service of the stable pods.
    pub stable_service: &'a str,
    /// The canary's weight.
    pub canary_weight: i32,
    /// The total weight (`maxTrafficWeight`, 100 by default); stable gets the rest.
    pub max_weight: i32,
    /// The pod-template hashes of the canary and stable pods (Istio's DestinationRule subsets
    /// select by them), when known.
    pub pods: PodHashes<'a>,
    /// The managed routes (header and mirror routes) wanted now.
    pub managed: &'a [managed::Wanted<'a>],
}

impl Split<'_> {
    /// The canary's share of `max_weight` when a router carries these two weights (all to stable
    /// when both are 0).
    #[must_use]
    pub fn share(&self, canary: i64, stable: i64) -> Option<i32> {
        let total = canary + stable;
        if total == 0 {
            return Some(0);
        }
        i32::try_from(canary * i64::from(self.max_weight) / total).ok()
    }
}

/// The pod-template hashes of the two sides of a split.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PodHashes<'a> {
    /// The canary's (the newest ReplicaSet's).
    pub canary: Option<&'a str>,
    /// The stable ReplicaSet's.
    pub stable: Option<&'a str>,
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
    /// The object the Rollout would create exists and is controlled by something else.
    #[error("{target} exists and is not controlled by this Rollout ({owner})")]
    NotOurs {
        /// The object.
        target: Box<RouteTarget>,
        /// Its controller, or "no controller".
        owner: String,
    },
    /// The stable Ingress has no rule with a backend of the stable Service.
    #[error("{source_target}: no rule of spec.rules has a backend of the stable Service {stable:?}")]
    NoStableBackend {
        /// The stable Ingress.
        source_target: Box<RouteTarget>,
        /// Stable Service.
        stable: String,
    },
    /// The router cannot express what the Rollout asks.
    #[error("{target}: {what} is not supported by this router")]
    Unsupported {
        /// The router object.
        target: Box<RouteTarget>,
        /// What cannot be expressed.
        what: String,
    },
    /// The DestinationRule lacks a subset the Rollout names.
    #[error("{target}: spec.subsets has no subset named {subset:?}")]
    NoSubset {
        /// The DestinationRule.
        target: Box<RouteTarget>,
        /// The subset.
        subset: String,
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

/// The router objects of a Rollout. What of its routing cannot be served is refused by
/// `crds::validation` (an InvalidSpec) before anything here is used; a block that names nothing
/// gives no target.
#[must_use]
pub fn targets(rollout: &Rollout) -> Vec<RouteTarget> {
    let Some(routing) = rollout.canary().and_then(|c| c.traffic_routing.as_ref()) else {
        return Vec::new();
    };
    let namespace = rollout.metadata.namespace.clone().unwrap_or_default();
    let name = rollout.metadata.name.clone().unwrap_or_default();
    let mut targets = Vec::new();
    if let Some(istio) = &routing.istio {
        targets.extend(istio::targets(istio, &namespace));
    }
    if let Some(nginx) = &routing.nginx {
        targets.extend(nginx::targets(nginx, &name, &namespace));
    }
    if let Some(smi) = &routing.smi {
        targets.extend(smi::targets(smi, &name, &namespace));
    }
    if let Some(Ok(config)) = routing.gateway_api() {
        targets.extend(gateway_api::targets(&config, &namespace));
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

/// What a router writes to give its object the split.
#[derive(Clone, Debug, PartialEq)]
pub enum RouteWrite {
    /// A JSON Patch of the weight fields of an object the user owns.
    Patch(Vec<Value>),
    /// The whole object the Rollout owns, server-side applied (created if missing).
    Apply(Value),
}

/// The router objects as read, by target; a target's source (NGINX's stable Ingress) is there
/// under [`RouteTarget::source_target`].
pub type Objects = BTreeMap<RouteTarget, Value>;

/// `object` as the weight operations `ops` leave it: header and mirror routes are worked out on
/// it, so their indices hold after the weights are patched.
#[must_use]
pub fn weighted(object: &Value, ops: &[Value]) -> Value {
    let mut doc = object.clone();
    if !ops.is_empty()
        && let Ok(patch) = serde_json::from_value::<json_patch::Patch>(Value::Array(ops.to_vec()))
    {
        let _ = json_patch::patch(&mut doc, &patch);
    }
    doc
}

/// What a router does, purely: a router is a file implementing this, plus its [`Router`] variant
/// and one arm in [`Router::imp`] (the shape of the analysis providers).
pub trait TrafficRouter: Sync {
    /// The write giving `target` the split, `None` when it carries it already.
    ///
    /// # Errors
    /// When the object (or the one it is built from) is missing or cannot carry the split.
    fn write(
        &self,
        target: &RouteTarget,
        rollout: &Rollout,
        objects: &Objects,
        split: &Split<'_>,
    ) -> Result<Option<RouteWrite>, RouteError>;

    /// The canary weight `object` carries now, as a share of `split.max_weight` (`None` when it
    /// carries none).
    fn canary_weight(&self, target: &RouteTarget, rollout: &Rollout, object: &Value, split: &Split<'_>) -> Option<i32>;
}

impl Router {
    /// The router's implementation.
    #[must_use]
    pub fn imp(self) -> &'static dyn TrafficRouter {
        match self {
            Self::GatewayApi => &gateway_api::GatewayApi,
            Self::Istio => &istio::Istio,
            Self::IstioSubsets => &istio::IstioSubsets,
            Self::Nginx => &nginx::Nginx,
            Self::Smi => &smi::Smi,
        }
    }
}

/// The object of `target`, or [`RouteError::NotFound`].
///
/// # Errors
/// When the object was not read (it does not exist).
pub fn existing<'a>(target: &RouteTarget, objects: &'a Objects) -> Result<&'a Value, RouteError> {
    objects
        .get(target)
        .ok_or_else(|| RouteError::NotFound(Box::new(target.clone())))
}

/// A JSON Patch write, `None` when there is nothing to patch.
#[must_use]
pub fn patched(ops: Vec<Value>) -> Option<RouteWrite> {
    (!ops.is_empty()).then_some(RouteWrite::Patch(ops))
}

/// The write giving `target` the split, `None` when it carries it already.
///
/// # Errors
/// When the object (or the one it is built from) is missing or cannot carry the split
/// ([`RouteError`]).
pub fn write(
    target: &RouteTarget,
    rollout: &Rollout,
    objects: &Objects,
    split: &Split<'_>,
) -> Result<Option<RouteWrite>, RouteError> {
    target.router.imp().write(target, rollout, objects, split)
}

/// The canary weight `target` carries now, as a share of `split.max_weight` (`None` when its
/// object is missing or carries none).
#[must_use]
pub fn canary_weight(target: &RouteTarget, rollout: &Rollout, objects: &Objects, split: &Split<'_>) -> Option<i32> {
    let object = objects.get(target)?;
    target.router.imp().canary_weight(target, rollout, object, split)
}
