//! NGINX Ingress (Argo's `rollout/trafficrouting/nginx/nginx.go`, `buildCanaryIngress`): for each
//! stable Ingress a canary Ingress named `<rollout>-<stable ingress>-canary`, owned by the Rollout,
//! with the stable Ingress's rules that reach the stable Service (their backends turned to the
//! canary Service), its TLS, `ingressClassName` and `kubernetes.io/ingress.class`, the
//! `additionalIngressAnnotations` (under the annotation prefix) and `canaryIngressAnnotations`,
//! and the two annotations ingress-nginx reads: `canary: "true"` and `canary-weight`
//! (`canary-weight-total` when `maxTrafficWeight` is not 100). The stable Ingress is only read.

use crds::Rollout;
use crds::rollout::NginxTrafficRouting;
use serde_json::{Map, Value, json};

use super::{RouteError, RouteTarget, Router, Split};

/// The annotation prefix when the Rollout sets none.
pub const DEFAULT_PREFIX: &str = "nginx.ingress.kubernetes.io";

fn config(rollout: &Rollout) -> Option<&NginxTrafficRouting> {
    rollout.canary()?.traffic_routing.as_ref()?.nginx.as_ref()
}

fn prefix(rollout: &Rollout) -> &str {
    config(rollout)
        .and_then(|c| c.annotation_prefix.as_deref())
        .filter(|p| !p.is_empty())
        .unwrap_or(DEFAULT_PREFIX)
}

/// The canary Ingresses, one per stable Ingress.
#[must_use]
pub fn targets(config: &NginxTrafficRouting, rollout: &str, namespace: &str) -> Vec<RouteTarget> {
    config
        .stable_ingresses()
        .into_iter()
        .map(|stable| RouteTarget {
            router: Router::Nginx,
            group: "networking.k8s.io",
            version: "v1",
            kind: "Ingress",
            plural: "ingresses",
            namespace: namespace.to_owned(),
            name: NginxTrafficRouting::canary_ingress_name(rollout, stable),
            routes: Vec::new(),
            source: Some(stable.to_owned()),
        })
        .collect()
}

/// The stable Ingress's rules that reach the stable Service, sent to the canary Service instead.
fn canary_rules(stable: &Value, split: &Split<'_>) -> Vec<Value> {
    let rules = stable.pointer("/spec/rules").and_then(Value::as_array);
    rules
        .into_iter()
        .flatten()
        .filter_map(|rule| {
            let mut rule = rule.clone();
            let mut reaches = false;
            for path in rule
                .pointer_mut("/http/paths")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if let Some(name) = path.pointer_mut("/backend/service/name")
                    && name.as_str() == Some(split.stable_service)
                {
                    *name = Value::from(split.canary_service);
                    reaches = true;
                }
            }
            reaches.then_some(rule)
        })
        .collect()
}

/// The canary Ingress for the split.
///
/// # Errors
/// [`RouteError::NoStableBackend`] when no rule of the stable Ingress reaches the stable Service.
pub fn desired(
    target: &RouteTarget,
    rollout: &Rollout,
    stable: &Value,
    split: &Split<'_>,
) -> Result<Value, RouteError> {
    let rules = canary_rules(stable, split);
    if rules.is_empty() {
        return Err(RouteError::NoStableBackend {
            source_target: Box::new(target.source_target().unwrap_or_else(|| target.clone())),
            stable: split.stable_service.to_owned(),
        });
    }
    let prefix = prefix(rollout);
    let prefixed = |key: &str| {
        if key.starts_with(prefix) {
            key.to_owned()
        } else {
            format!("{prefix}/{key}")
        }
    };
    let mut annotations = Map::new();
    if let Some(class) = stable.pointer("/metadata/annotations/kubernetes.io~1ingress.class") {
        annotations.insert("kubernetes.io/ingress.class".into(), class.clone());
    }
    if let Some(config) = config(rollout) {
        for (k, v) in &config.canary_ingress_annotations {
            annotations.insert(k.clone(), Value::from(v.as_str()));
        }
        for (k, v) in &config.additional_ingress_annotations {
            annotations.insert(prefixed(k), Value::from(v.as_str()));
        }
    }
    annotations.insert(format!("{prefix}/canary"), Value::from("true"));
    annotations.insert(
        format!("{prefix}/canary-weight"),
        Value::from(split.canary_weight.to_string()),
    );
    if split.max_weight != 100 {
        annotations.insert(
            format!("{prefix}/canary-weight-total"),
            Value::from(split.max_weight.to_string()),
        );
    }
    let mut spec = json!({"rules": rules});
    for field in ["tls", "ingressClassName"] {
        if let Some(value) = stable.pointer(&format!("/spec/{field}")) {
            spec[field] = value.clone();
        }
    }
    Ok(json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            "name": target.name,
            "namespace": target.namespace,
            "annotations": annotations,
            "ownerReferences": [super::owned::owner_reference(rollout)],
        },
        "spec": spec,
    }))
}

/// The canary weight the canary Ingress carries, as a share of `split.max_weight`.
#[must_use]
pub fn canary_weight(rollout: &Rollout, object: &Value, split: &Split<'_>) -> Option<i32> {
    let prefix = prefix(rollout);
    let annotations = object.pointer("/metadata/annotations")?;
    let number = |key: String| annotations.get(key)?.as_str()?.trim().parse::<i64>().ok();
    let weight = number(format!("{prefix}/canary-weight")).unwrap_or(0);
    let total = number(format!("{prefix}/canary-weight-total")).unwrap_or(100).max(1);
    i32::try_from(weight * i64::from(split.max_weight) / total).ok()
}

/// The NGINX router.
pub struct Nginx;

impl super::TrafficRouter for Nginx {
    fn write(
        &self,
        target: &RouteTarget,
        rollout: &Rollout,
        objects: &super::Objects,
        split: &Split<'_>,
    ) -> Result<Option<super::RouteWrite>, RouteError> {
        let source = target.source_target().unwrap_or_else(|| target.clone());
        let stable = super::existing(&source, objects)?;
        let wanted = desired(target, rollout, stable, split)?;
        super::owned::write(target, rollout, objects.get(target), wanted)
    }

    fn canary_weight(&self, _: &RouteTarget, rollout: &Rollout, object: &Value, split: &Split<'_>) -> Option<i32> {
        canary_weight(rollout, object, split)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn rollout(nginx: Value) -> Rollout {
        serde_json::from_value(json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "metadata": {"name": "web", "namespace": "shop", "uid": "u-1"},
            "spec": {"strategy": {"canary": {"canaryService": "web-canary", "stableService": "web-stable",
                "trafficRouting": {"nginx": nginx}}}}
        }))
        .unwrap()
    }

    fn stable_ingress() -> Value {
        json!({"metadata": {"name": "web", "namespace": "shop",
            "annotations": {"kubernetes.io/ingress.class": "nginx", "nginx.ingress.kubernetes.io/rewrite-target": "/"}},
        "spec": {"ingressClassName": "nginx", "tls": [{"hosts": ["web.example"], "secretName": "web-tls"}],
            "rules": [
                {"host": "web.example", "http": {"paths": [{"path": "/", "pathType": "Prefix",
                    "backend": {"service": {"name": "web-stable", "port": {"number": 80}}}}]}},
                {"host": "other.example", "http": {"paths": [{"path": "/", "pathType": "Prefix",
                    "backend": {"service": {"name": "other", "port": {"number": 80}}}}]}}
            ]}})
    }

    fn split(weight: i32, max: i32) -> Split<'static> {
        Split {
            canary_service: "web-canary",
            stable_service: "web-stable",
            canary_weight: weight,
            max_weight: max,
            pods: crate::rollout::traffic::PodHashes::default(),
            managed: &[],
        }
    }

    #[test]
    fn the_canary_ingress_copies_the_stable_rules_to_the_canary_service_with_the_weight() {
        let rollout =
            rollout(json!({"stableIngress": "web", "additionalIngressAnnotations": {"canary-by-header": "X-Canary"}}));
        let config = rollout
            .canary()
            .unwrap()
            .traffic_routing
            .clone()
            .unwrap()
            .nginx
            .unwrap();
        let target = targets(&config, "web", "shop").remove(0);
        assert_eq!(target.name, "web-web-canary");
        assert_eq!(target.source.as_deref(), Some("web"));
        let ingress = desired(&target, &rollout, &stable_ingress(), &split(10, 100)).unwrap();
        assert_eq!(
            ingress["metadata"]["annotations"],
            json!({"kubernetes.io/ingress.class": "nginx",
                "nginx.ingress.kubernetes.io/canary": "true",
                "nginx.ingress.kubernetes.io/canary-by-header": "X-Canary",
                "nginx.ingress.kubernetes.io/canary-weight": "10"}),
            "the stable Ingress's other nginx annotations stay off the canary"
        );
        let rules = ingress["spec"]["rules"].as_array().unwrap();
        assert_eq!(rules.len(), 1, "only the rule reaching the stable Service");
        assert_eq!(rules[0]["http"]["paths"][0]["backend"]["service"]["name"], "web-canary");
        assert_eq!(ingress["spec"]["ingressClassName"], "nginx");
        assert_eq!(ingress["spec"]["tls"][0]["secretName"], "web-tls");
        assert_eq!(ingress["metadata"]["ownerReferences"][0]["uid"], "u-1");
        assert_eq!(ingress["metadata"]["ownerReferences"][0]["controller"], true);
        assert_eq!(canary_weight(&rollout, &ingress, &split(0, 100)), Some(10));
    }

    #[test]
    fn a_custom_prefix_and_total_weight_are_written_and_read_back() {
        let rollout = rollout(json!({"stableIngress": "web", "annotationPrefix": "custom.nginx.org"}));
        let config = rollout
            .canary()
            .unwrap()
            .traffic_routing
            .clone()
            .unwrap()
            .nginx
            .unwrap();
        let target = targets(&config, "web", "shop").remove(0);
        let ingress = desired(&target, &rollout, &stable_ingress(), &split(250, 1000)).unwrap();
        let annotations = &ingress["metadata"]["annotations"];
        assert_eq!(annotations["custom.nginx.org/canary-weight"], "250");
        assert_eq!(annotations["custom.nginx.org/canary-weight-total"], "1000");
        assert_eq!(canary_weight(&rollout, &ingress, &split(0, 1000)), Some(250));
    }

    #[test]
    fn a_stable_ingress_without_the_stable_service_is_refused_naming_it() {
        let rollout = rollout(json!({"stableIngress": "web"}));
        let config = rollout
            .canary()
            .unwrap()
            .traffic_routing
            .clone()
            .unwrap()
            .nginx
            .unwrap();
        let target = targets(&config, "web", "shop").remove(0);
        let mut other = stable_ingress();
        other["spec"]["rules"].as_array_mut().unwrap().remove(0);
        let error = desired(&target, &rollout, &other, &split(10, 100)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "Ingress shop/web: no rule of spec.rules has a backend of the stable Service \"web-stable\""
        );
    }

    #[test]
    fn long_names_are_cut_to_fit_with_the_suffix() {
        let name = NginxTrafficRouting::canary_ingress_name(&"r".repeat(200), &"s".repeat(100));
        assert_eq!(name.len(), 253);
        assert!(name.ends_with("-canary"));
    }
}
