//! The ReplicaSet controller's decision: how many pods to create, which to delete (not-ready and
//! youngest first), and the status to report, from the ReplicaSet, its pods and the time.

use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Pod;
use serde_json::{Value, json};

/// What to do for one ReplicaSet.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// Pods to create from the template.
    pub create: usize,
    /// Names of pods to delete.
    pub delete: Vec<String>,
    /// The status to write, when it changed.
    pub status: Option<Value>,
    /// When to look again (a pod becoming available after minReadySeconds).
    pub requeue: Option<std::time::Duration>,
}

fn ready_since(pod: &Pod) -> Option<jiff::Timestamp> {
    let conditions = pod.status.as_ref()?.conditions.as_ref()?;
    let ready = conditions.iter().find(|c| c.type_ == "Ready" && c.status == "True")?;
    Some(
        ready
            .last_transition_time
            .as_ref()
            .map_or(jiff::Timestamp::UNIX_EPOCH, |t| t.0),
    )
}

fn is_active(pod: &Pod) -> bool {
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    pod.metadata.deletion_timestamp.is_none() && !matches!(phase, Some("Succeeded" | "Failed"))
}

/// The pods a ReplicaSet owns (controller reference to its uid).
#[must_use]
pub fn owned<'a>(rs: &ReplicaSet, pods: &'a [Pod]) -> Vec<&'a Pod> {
    let uid = rs.metadata.uid.as_deref().unwrap_or_default();
    pods.iter()
        .filter(|p| {
            p.metadata
                .owner_references
                .iter()
                .flatten()
                .any(|r| r.uid == uid && r.controller == Some(true))
        })
        .collect()
}

/// Decides what the ReplicaSet needs at `now`, given the pods it owns.
#[must_use]
pub fn decide(rs: &ReplicaSet, pods: &[&Pod], now: jiff::Timestamp) -> Decision {
    let desired = usize::try_from(rs.spec.replicas.unwrap_or(1).max(0)).unwrap_or(0);
    let min_ready =
        std::time::Duration::from_secs(u64::try_from(rs.spec.min_ready_seconds.unwrap_or(0).max(0)).unwrap_or(0));
    let mut active: Vec<&Pod> = pods.iter().copied().filter(|p| is_active(p)).collect();
    let (create, delete) = if active.len() < desired {
        (desired - active.len(), Vec::new())
    } else {
        // Delete not-ready pods first, then the youngest, as the real controller ranks them.
        active.sort_by_key(|p| {
            let ready = ready_since(p).is_some();
            let created = p.metadata.creation_timestamp.as_ref().map(|t| t.0);
            (ready, std::cmp::Reverse(created))
        });
        let surplus = active.len() - desired;
        (
            0,
            active
                .iter()
                .take(surplus)
                .filter_map(|p| p.metadata.name.clone())
                .collect(),
        )
    };
    let remaining: Vec<&Pod> = active
        .iter()
        .copied()
        .filter(|p| !delete.contains(p.metadata.name.as_ref().unwrap_or(&String::new())))
        .collect();
    let ready = remaining.iter().filter(|p| ready_since(p).is_some()).count();
    let available = remaining
        .iter()
        .filter(|p| ready_since(p).is_some_and(|t| t + min_ready <= now))
        .count();
    let next_available = remaining
        .iter()
        .filter_map(|p| ready_since(p).map(|t| t + min_ready))
        .filter(|t| *t > now)
        .min()
        .and_then(|t| t.duration_since(now).try_into().ok());
    let labels = rs
        .spec
        .template
        .as_ref()
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    let fully_labeled = remaining
        .iter()
        .filter(|p| {
            labels
                .iter()
                .all(|(k, v)| p.metadata.labels.as_ref().and_then(|l| l.get(k)) == Some(v))
        })
        .count();
    let status = json!({
        "replicas": remaining.len() + create,
        "fullyLabeledReplicas": fully_labeled,
        "readyReplicas": ready,
        "availableReplicas": available,
        "observedGeneration": rs.metadata.generation.unwrap_or(0),
    });
    let current = rs
        .status
        .as_ref()
        .and_then(|s| serde_json::to_value(s).ok())
        .unwrap_or_else(|| json!({}));
    let same = [
        "replicas",
        "fullyLabeledReplicas",
        "readyReplicas",
        "availableReplicas",
        "observedGeneration",
    ]
    .iter()
    .all(|k| current.get(*k).cloned().unwrap_or(json!(0)) == status[*k]);
    Decision {
        create,
        delete,
        status: (!same).then_some(status),
        requeue: next_available,
    }
}

/// The pod to create for a ReplicaSet: its template, named `<rs>-<5 random characters>`, owned by it.
#[must_use]
pub fn new_pod(rs: &ReplicaSet) -> Value {
    let template = rs.spec.template.clone().unwrap_or_default();
    let meta = template.metadata.unwrap_or_default();
    let name = rs.metadata.name.clone().unwrap_or_default();
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "generateName": format!("{name}-"),
            "namespace": rs.metadata.namespace,
            "labels": meta.labels.unwrap_or_default(),
            "annotations": meta.annotations.unwrap_or_default(),
            "ownerReferences": [{
                "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": name,
                "uid": rs.metadata.uid, "controller": true, "blockOwnerDeletion": true
            }],
        },
        "spec": template.spec,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PodCondition, PodStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{OwnerReference, Time};

    fn at(secs: i64) -> jiff::Timestamp {
        jiff::Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    fn rs(replicas: i32, min_ready: i32) -> ReplicaSet {
        serde_json::from_value(json!({
            "metadata": {"name": "web-abc", "namespace": "default", "uid": "rs-uid", "generation": 2},
            "spec": {"replicas": replicas, "minReadySeconds": min_ready, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "app", "image": "web:1"}]}}}
        }))
        .unwrap()
    }

    fn pod(name: &str, created: i64, ready_at: Option<i64>) -> Pod {
        let mut p = Pod::default();
        p.metadata.name = Some(name.into());
        p.metadata.labels = Some([("app".to_owned(), "web".to_owned())].into());
        p.metadata.creation_timestamp = Some(Time(at(created)));
        p.metadata.owner_references = Some(vec![OwnerReference {
            uid: "rs-uid".into(),
            controller: Some(true),
            ..OwnerReference::default()
        }]);
        p.status = Some(PodStatus {
            phase: Some("Running".into()),
            conditions: ready_at.map(|t| {
                vec![PodCondition {
                    type_: "Ready".into(),
                    status: "True".into(),
                    last_transition_time: Some(Time(at(t))),
                    ..PodCondition::default()
                }]
            }),
            ..PodStatus::default()
        });
        p
    }

    #[test]
    fn creates_missing_pods_and_reports_status() {
        let pods = [pod("a", 0, Some(1))];
        let d = decide(&rs(3, 0), &pods.iter().collect::<Vec<_>>(), at(10));
        assert_eq!((d.create, d.delete.len()), (2, 0));
        assert_eq!(
            d.status.unwrap(),
            json!({"replicas": 3, "fullyLabeledReplicas": 1, "readyReplicas": 1, "availableReplicas": 1, "observedGeneration": 2})
        );
    }

    #[test]
    fn scale_down_removes_not_ready_then_youngest() {
        let pods = [
            pod("old-ready", 0, Some(1)),
            pod("young-ready", 5, Some(6)),
            pod("not-ready", 1, None),
            pod("mid-ready", 3, Some(4)),
        ];
        let d = decide(&rs(2, 0), &pods.iter().collect::<Vec<_>>(), at(10));
        assert_eq!(d.delete, ["not-ready", "young-ready"]);
        assert_eq!(d.status.unwrap()["replicas"], 2);
    }

    #[test]
    fn availability_waits_for_min_ready_seconds() {
        let pods = [pod("a", 0, Some(8))];
        let d = decide(&rs(1, 5), &pods.iter().collect::<Vec<_>>(), at(10));
        let status = d.status.unwrap();
        assert_eq!(
            (status["readyReplicas"].clone(), status["availableReplicas"].clone()),
            (json!(1), json!(0))
        );
        assert_eq!(d.requeue, Some(std::time::Duration::from_secs(3)));
    }

    #[test]
    fn new_pods_follow_the_template_and_are_owned() {
        let p = new_pod(&rs(1, 0));
        assert_eq!(p["metadata"]["generateName"], "web-abc-");
        assert_eq!(p["metadata"]["labels"], json!({"app": "web"}));
        assert_eq!(p["metadata"]["ownerReferences"][0]["controller"], true);
        assert_eq!(p["spec"]["containers"][0]["image"], "web:1");
    }
}
