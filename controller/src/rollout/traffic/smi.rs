//! SMI `TrafficSplit` (Argo's `rollout/trafficrouting/smi/smi.go`): one TrafficSplit named
//! `trafficSplitName` (default: the Rollout's name), owned by the Rollout, for the root Service
//! (`rootService`, default the stable Service) with two backends, the canary Service then the
//! stable one, whose weights add up to 100. Written as `split.smi-spec.io/v1alpha1`, Argo's
//! default version; its weights are Kubernetes quantities, written as integers and read back
//! from integers or strings.

use crds::Rollout;
use crds::rollout::SmiTrafficRouting;
use serde_json::{Value, json};

use super::{RouteTarget, Router, Split};

/// The API version written.
pub const VERSION: &str = "v1alpha1";

/// The TrafficSplit of the Rollout.
#[must_use]
pub fn targets(config: &SmiTrafficRouting, rollout: &str, namespace: &str) -> Vec<RouteTarget> {
    let name = config.split_name(rollout);
    vec![RouteTarget {
        router: Router::Smi,
        group: "split.smi-spec.io",
        version: VERSION,
        kind: "TrafficSplit",
        plural: "trafficsplits",
        namespace: namespace.to_owned(),
        name,
        routes: Vec::new(),
        source: None,
    }]
}

/// The TrafficSplit for the split (SMI weights are shares of 100 whatever `maxTrafficWeight`).
#[must_use]
pub fn desired(target: &RouteTarget, rollout: &Rollout, split: &Split<'_>) -> Value {
    let root = rollout
        .canary()
        .and_then(|c| c.traffic_routing.as_ref())
        .and_then(|r| r.smi.as_ref())
        .and_then(|s| s.root_service.clone())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| split.stable_service.to_owned());
    let max = i64::from(split.max_weight.max(1));
    let canary = i64::from(split.canary_weight.max(0)) * 100 / max;
    json!({
        "apiVersion": format!("split.smi-spec.io/{VERSION}"),
        "kind": "TrafficSplit",
        "metadata": {
            "name": target.name,
            "namespace": target.namespace,
            "ownerReferences": [super::owned::owner_reference(rollout)],
        },
        "spec": {
            "service": root,
            "backends": [
                {"service": split.canary_service, "weight": canary},
                {"service": split.stable_service, "weight": (100 - canary).max(0)},
            ],
        },
    })
}

/// A backend's weight: an integer, or a quantity string of one.
fn weight(backend: &Value) -> i64 {
    match backend.get("weight") {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) => s.trim().parse().unwrap_or(0),
        _ => 0,
    }
}

/// The canary weight the TrafficSplit carries, as a share of `split.max_weight`.
#[must_use]
pub fn canary_weight(object: &Value, split: &Split<'_>) -> Option<i32> {
    let backends = object.pointer("/spec/backends")?.as_array()?;
    let of = |name: &str| {
        backends
            .iter()
            .filter(|b| b.get("service").and_then(Value::as_str) == Some(name))
            .map(weight)
            .sum::<i64>()
    };
    split.share(of(split.canary_service), of(split.stable_service))
}

/// The SMI router.
pub struct Smi;

impl super::TrafficRouter for Smi {
    fn write(
        &self,
        target: &RouteTarget,
        rollout: &Rollout,
        objects: &super::Objects,
        split: &Split<'_>,
    ) -> Result<Option<super::RouteWrite>, super::RouteError> {
        super::owned::write(target, rollout, objects.get(target), desired(target, rollout, split))
    }

    fn canary_weight(&self, _: &RouteTarget, _: &Rollout, object: &Value, split: &Split<'_>) -> Option<i32> {
        canary_weight(object, split)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_split_names_the_root_service_and_weights_canary_then_stable() {
        let rollout: Rollout = serde_json::from_value(json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "metadata": {"name": "web", "namespace": "shop", "uid": "u-1"},
            "spec": {"strategy": {"canary": {"canaryService": "web-canary", "stableService": "web-stable",
                "trafficRouting": {"smi": {"rootService": "web"}}}}}
        }))
        .unwrap();
        let config = SmiTrafficRouting {
            root_service: Some("web".into()),
            traffic_split_name: None,
        };
        let target = targets(&config, "web", "shop").remove(0);
        assert_eq!((target.name.as_str(), target.kind), ("web", "TrafficSplit"));
        let split = Split {
            canary_service: "web-canary",
            stable_service: "web-stable",
            canary_weight: 30,
            max_weight: 100,
            pods: crate::rollout::traffic::PodHashes::default(),
            managed: &[],
        };
        let object = desired(&target, &rollout, &split);
        assert_eq!(
            object["spec"],
            json!({"service": "web", "backends": [
                {"service": "web-canary", "weight": 30}, {"service": "web-stable", "weight": 70}]})
        );
        assert_eq!(canary_weight(&object, &split), Some(30));
        let quantities = json!({"spec": {"backends": [
            {"service": "web-canary", "weight": "5"}, {"service": "web-stable", "weight": "95"}]}});
        assert_eq!(canary_weight(&quantities, &split), Some(5));
    }
}
