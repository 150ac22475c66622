//! Which ReplicaSet runs which version: the pod-template hash, finding the new ReplicaSet (by hash,
//! then by template equality so existing ReplicaSets are adopted instead of duplicated), revisions,
//! and building a new ReplicaSet.

use std::collections::BTreeMap;

use crds::Rollout;
use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetSpec};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, OwnerReference};
use serde_json::Value;

use crds::keys::{DESIRED_REPLICAS_ANNOTATION, HASH_LABEL, REVISION_ANNOTATION, pod_template_hash};

/// The hash of the Rollout's pod template with its collision count.
#[must_use]
pub fn desired_hash(rollout: &Rollout) -> String {
    let template = serde_json::to_value(rollout.spec.template.clone().unwrap_or_default()).unwrap_or(Value::Null);
    crds::hash::pod_template_hash(&template, rollout.status.as_ref().and_then(|s| s.collision_count))
}

/// Argo's `currentStepHash`: FNV-32a of the canary steps' JSON.
#[must_use]
pub fn steps_hash(rollout: &Rollout) -> Option<String> {
    let canary = rollout.spec.strategy.as_ref()?.canary.as_ref()?;
    let json = serde_json::to_string(&canary.steps).unwrap_or_default();
    Some(crds::hash::fnv32a_decimal(&json))
}

/// The `rollouts-pod-template-hash` label of a ReplicaSet.
#[must_use]
pub fn hash_of(rs: &ReplicaSet) -> Option<&str> {
    pod_template_hash(&rs.metadata)
}

/// The revision of a ReplicaSet (0 when absent).
#[must_use]
pub fn revision_of(rs: &ReplicaSet) -> i64 {
    crds::keys::revision(&rs.metadata)
}

/// `spec.replicas` of a ReplicaSet (Kubernetes defaults it to 1).
#[must_use]
pub fn spec_replicas(rs: &ReplicaSet) -> i32 {
    rs.spec.replicas.unwrap_or(1)
}

/// Available pods of a ReplicaSet.
#[must_use]
pub fn available(rs: &ReplicaSet) -> i32 {
    rs.status.as_ref().and_then(|s| s.available_replicas).unwrap_or(0)
}

/// Ready pods of a ReplicaSet.
#[must_use]
pub fn ready(rs: &ReplicaSet) -> i32 {
    rs.status.as_ref().and_then(|s| s.ready_replicas).unwrap_or(0)
}

/// Pods a ReplicaSet currently has (`status.replicas`).
#[must_use]
pub fn status_replicas(rs: &ReplicaSet) -> i32 {
    rs.status.as_ref().map_or(0, |s| s.replicas)
}

/// Fields the API server fills in on pod templates; a ReplicaSet may carry them although the
/// Rollout's template does not.
const SERVER_DEFAULTED: &[&str] = &[
    "imagePullPolicy",
    "terminationMessagePath",
    "terminationMessagePolicy",
    "resources",
    "protocol",
    "restartPolicy",
    "dnsPolicy",
    "schedulerName",
    "securityContext",
    "terminationGracePeriodSeconds",
    "creationTimestamp",
    "enableServiceLinks",
    "serviceAccount",
];

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// Whether `actual` (a stored template) is `desired` plus only server defaults.
fn covers(desired: &Value, actual: &Value) -> bool {
    match (desired, actual) {
        (Value::Object(d), Value::Object(a)) => {
            d.iter()
                .all(|(k, dv)| a.get(k).map_or(is_empty(dv), |av| covers(dv, av)))
                && a.iter()
                    .all(|(k, av)| d.contains_key(k) || SERVER_DEFAULTED.contains(&k.as_str()) || is_empty(av))
        }
        (Value::Array(d), Value::Array(a)) => d.len() == a.len() && d.iter().zip(a).all(|(dv, av)| covers(dv, av)),
        (d, a) => d == a || (is_empty(d) && is_empty(a)),
    }
}

/// Whether a ReplicaSet runs the Rollout's template, ignoring the hash label and server defaults.
#[must_use]
pub fn runs_template(rs: &ReplicaSet, template: &PodTemplateSpec) -> bool {
    let Some(mut actual) = rs.spec.template.as_ref().and_then(|t| serde_json::to_value(t).ok()) else {
        return false;
    };
    if let Some(labels) = actual.pointer_mut("/metadata/labels").and_then(Value::as_object_mut) {
        labels.remove(HASH_LABEL);
    }
    let desired = serde_json::to_value(template).unwrap_or(Value::Null);
    covers(&desired, &actual)
}

/// The index of the ReplicaSet that runs the desired template: by hash label first, then by
/// template equality.
#[must_use]
pub fn find_new(replicasets: &[ReplicaSet], hash: &str, template: &PodTemplateSpec) -> Option<usize> {
    replicasets
        .iter()
        .position(|rs| hash_of(rs) == Some(hash))
        .or_else(|| replicasets.iter().position(|rs| runs_template(rs, template)))
}

/// The owner reference that makes the Rollout the controller of an object.
#[must_use]
pub fn controller_ref(rollout: &Rollout) -> OwnerReference {
    OwnerReference {
        api_version: "argoproj.io/v1alpha1".into(),
        kind: "Rollout".into(),
        name: rollout.metadata.name.clone().unwrap_or_default(),
        uid: rollout.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// A new ReplicaSet `<rollout>-<hash>` for the Rollout's template.
#[must_use]
pub fn new_replicaset(rollout: &Rollout, hash: &str, replicas: i32, revision: i64) -> ReplicaSet {
    let mut template = rollout.spec.template.clone().unwrap_or_default();
    let meta = template.metadata.get_or_insert_with(ObjectMeta::default);
    meta.labels
        .get_or_insert_with(BTreeMap::new)
        .insert(HASH_LABEL.into(), hash.into());
    let labels = meta.labels.clone();
    let mut selector: LabelSelector = rollout.spec.selector.clone().unwrap_or_default();
    selector
        .match_labels
        .get_or_insert_with(BTreeMap::new)
        .insert(HASH_LABEL.into(), hash.into());
    let annotations = BTreeMap::from([
        (REVISION_ANNOTATION.to_string(), revision.to_string()),
        (
            DESIRED_REPLICAS_ANNOTATION.to_string(),
            rollout.spec.effective_replicas().to_string(),
        ),
    ]);
    ReplicaSet {
        metadata: ObjectMeta {
            name: Some(format!("{}-{hash}", rollout.metadata.name.clone().unwrap_or_default())),
            namespace: rollout.metadata.namespace.clone(),
            labels,
            annotations: Some(annotations),
            owner_references: Some(vec![controller_ref(rollout)]),
            ..ObjectMeta::default()
        },
        spec: ReplicaSetSpec {
            replicas: Some(replicas),
            min_ready_seconds: rollout.spec.min_ready_seconds,
            selector,
            template: Some(template),
        },
        status: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rollout(image: &str) -> Rollout {
        serde_json::from_value(json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "metadata": {"name": "web", "namespace": "default", "uid": "u1"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": image, "ports": [{"containerPort": 80}]}]}},
                "strategy": {"canary": {"steps": [{"setWeight": 20}]}}}
        }))
        .unwrap()
    }

    /// The ReplicaSet as a real API server stores it: defaults filled in.
    fn stored(rs: &ReplicaSet) -> ReplicaSet {
        let mut value = serde_json::to_value(rs).unwrap();
        let spec = value.pointer_mut("/spec/template/spec").unwrap();
        spec["restartPolicy"] = json!("Always");
        spec["dnsPolicy"] = json!("ClusterFirst");
        spec["securityContext"] = json!({});
        let container = &mut spec["containers"][0];
        container["imagePullPolicy"] = json!("IfNotPresent");
        container["terminationMessagePath"] = json!("/dev/termination-log");
        container["resources"] = json!({});
        container["ports"][0]["protocol"] = json!("TCP");
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_new_replicaset_carries_the_hash_everywhere() {
        let r = rollout("nginx:1");
        let hash = desired_hash(&r);
        let rs = new_replicaset(&r, &hash, 2, 3);
        assert_eq!(rs.metadata.name.as_deref(), Some(format!("web-{hash}").as_str()));
        assert_eq!(hash_of(&rs), Some(hash.as_str()));
        let spec = &rs.spec;
        assert_eq!(spec.selector.match_labels.as_ref().unwrap()[HASH_LABEL], hash);
        assert_eq!(
            spec.template
                .as_ref()
                .unwrap()
                .metadata
                .as_ref()
                .unwrap()
                .labels
                .as_ref()
                .unwrap()[HASH_LABEL],
            hash
        );
        assert_eq!(revision_of(&rs), 3);
        assert_eq!(rs.metadata.owner_references.as_ref().unwrap()[0].uid, "u1");
    }

    #[test]
    fn existing_replicasets_are_found_by_template_when_the_hash_differs() {
        let r = rollout("nginx:1");
        let mut foreign = stored(&new_replicaset(&r, "674d8cf959", 3, 1));
        // Made by another controller: a hash this one would never compute.
        assert_eq!(
            find_new(
                std::slice::from_ref(&foreign),
                &desired_hash(&r),
                r.spec.template.as_ref().unwrap()
            ),
            Some(0)
        );
        // A different image is a different version.
        let other = rollout("nginx:2");
        assert_eq!(
            find_new(
                std::slice::from_ref(&foreign),
                &desired_hash(&other),
                other.spec.template.as_ref().unwrap()
            ),
            None
        );
        // A field the user set is not mistaken for a default.
        foreign
            .spec
            .template
            .as_mut()
            .unwrap()
            .spec
            .as_mut()
            .unwrap()
            .host_network = Some(true);
        assert_eq!(
            find_new(&[foreign], &desired_hash(&r), r.spec.template.as_ref().unwrap()),
            None
        );
    }

    #[test]
    fn steps_hash_follows_the_steps() {
        let a = rollout("nginx:1");
        let mut b = a.clone();
        assert_eq!(steps_hash(&a), steps_hash(&b));
        b.spec.strategy.as_mut().unwrap().canary.as_mut().unwrap().steps[0].set_weight = Some(30);
        assert_ne!(steps_hash(&a), steps_hash(&b));
    }
}
