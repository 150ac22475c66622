//! Keeping a reverted change out. Flux's maintainers' objection to reverts is that image
//! automation pushes the same change again and the loop starts over; so when Sluice reverts, it
//! records the pod template of each workload that went Degraded (on the Application, annotation
//! `sluice.dev/reverted-templates`), and an automated sync of a later revision that brings exactly
//! that template back is held out until a person syncs by hand or the template changes.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::tracking::ResourceKey;

pub use crds::keys::REVERTED_TEMPLATES_ANNOTATION;
/// How many recorded templates an Application keeps (the newest).
const KEPT: usize = 20;

/// A workload template that a revert took out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reverted {
    /// `group/Kind/namespace/name` of the workload.
    pub resource: String,
    /// The hash of its pod template (`spec.template`) as rendered from Git.
    pub template: String,
    /// The commit that brought it, which was reverted.
    pub commit: String,
}

/// The hash of a workload's pod template (`spec.template`: Deployments, StatefulSets, DaemonSets,
/// ReplicaSets, Jobs, Rollouts), `None` for anything else.
#[must_use]
pub fn template_hash(object: &Value) -> Option<String> {
    let template = object.pointer("/spec/template").filter(|t| t.get("spec").is_some())?;
    Some(crds::hash::pod_template_hash(template, None))
}

/// The recorded templates (an unreadable annotation records nothing).
#[must_use]
pub fn recorded(annotation: Option<&str>) -> Vec<Reverted> {
    annotation
        .and_then(|a| serde_json::from_str(a).ok())
        .unwrap_or_default()
}

/// The annotation's value with `added` recorded (newest last, the oldest dropped beyond the limit).
#[must_use]
pub fn record(mut existing: Vec<Reverted>, added: Vec<Reverted>) -> String {
    existing.retain(|e| {
        !added
            .iter()
            .any(|a| a.resource == e.resource && a.template == e.template)
    });
    existing.extend(added);
    let excess = existing.len().saturating_sub(KEPT);
    existing.drain(..excess);
    serde_json::to_string(&existing).unwrap_or_else(|_| "[]".into())
}

/// The templates of `objects` to record when `commit` is reverted.
#[must_use]
pub fn templates_of<'a>(objects: impl IntoIterator<Item = &'a Value>, commit: &str) -> Vec<Reverted> {
    objects
        .into_iter()
        .filter_map(|o| {
            Some(Reverted {
                resource: ResourceKey::of(o).to_string(),
                template: template_hash(o)?,
                commit: commit.to_owned(),
            })
        })
        .collect()
}

/// The recorded templates that `desired` brings back.
#[must_use]
pub fn brought_back<'a, 'b>(
    recorded: &'a [Reverted],
    desired: impl IntoIterator<Item = &'b Value>,
) -> Vec<&'a Reverted> {
    let desired: Vec<(String, String)> = desired
        .into_iter()
        .filter_map(|o| Some((ResourceKey::of(o).to_string(), template_hash(o)?)))
        .collect();
    recorded
        .iter()
        .filter(|r| {
            desired
                .iter()
                .any(|(key, hash)| *key == r.resource && *hash == r.template)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rollout(image: &str) -> Value {
        json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "api", "namespace": "shop"},
               "spec": {"replicas": 3, "template": {"metadata": {"labels": {"app": "api"}}, "spec": {"containers": [{"name": "api", "image": image}]}}}})
    }

    #[test]
    fn the_same_template_is_brought_back_a_changed_one_is_not() {
        let bad = rollout("api:2");
        let recorded_now = templates_of([&bad, &json!({"kind": "ConfigMap", "metadata": {"name": "c"}})], "abc");
        assert_eq!(recorded_now.len(), 1, "only workloads have templates");
        assert_eq!(recorded_now[0].resource, "argoproj.io/Rollout/shop/api");
        let annotation = record(Vec::new(), recorded_now);
        let kept = recorded(Some(&annotation));
        let mut replicas_changed = bad.clone();
        replicas_changed["spec"]["replicas"] = json!(5);
        assert_eq!(
            brought_back(&kept, [&replicas_changed]).len(),
            1,
            "the pod template is what counts"
        );
        assert!(brought_back(&kept, [&rollout("api:3")]).is_empty());
        assert!(brought_back(&kept, [&rollout("api:1")]).is_empty());
        let mut renamed = bad;
        renamed["metadata"]["name"] = json!("other");
        assert!(brought_back(&kept, [&renamed]).is_empty(), "another workload");
    }

    #[test]
    fn recording_deduplicates_and_keeps_the_newest() {
        let mut annotation = String::new();
        for i in 0..30 {
            let r = templates_of([&rollout(&format!("api:{i}"))], &format!("c{i}"));
            annotation = record(recorded(Some(&annotation)), r);
        }
        let kept = recorded(Some(&annotation));
        assert_eq!(kept.len(), KEPT);
        assert_eq!(kept.last().map(|r| r.commit.as_str()), Some("c29"));
        let again = record(kept.clone(), templates_of([&rollout("api:29")], "c29"));
        assert_eq!(recorded(Some(&again)).len(), KEPT);
        assert!(recorded(Some("not json")).is_empty());
    }
}
