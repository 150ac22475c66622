//! StatefulSets and DaemonSets, simply: enough pods and status for their health to mean what users
//! expect. A StatefulSet runs `<name>-0..N-1`, one at a time in order (OrderedReady) and removes the
//! highest ordinal first; a DaemonSet runs one pod on the simulator's single node.

use k8s_openapi::api::apps::v1::{DaemonSet, StatefulSet};
use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::{Value, json};

/// What to do for one StatefulSet or DaemonSet.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Decision {
    /// Pods to create, as documents.
    pub create: Vec<Value>,
    /// Names of pods to delete.
    pub delete: Vec<String>,
    /// The status to write, when it changed.
    pub status: Option<Value>,
}

fn ready(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_none()
        && pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

fn pod_from(
    owner: &ObjectMeta,
    kind: &str,
    template: &PodTemplateSpec,
    name: Option<String>,
    extra_labels: &[(&str, String)],
) -> Value {
    let meta = template.metadata.clone().unwrap_or_default();
    let mut labels = meta.labels.unwrap_or_default();
    for (k, v) in extra_labels {
        labels.insert((*k).to_owned(), v.clone());
    }
    let owner_name = owner.name.clone().unwrap_or_default();
    let mut metadata = json!({
        "namespace": owner.namespace, "labels": labels, "annotations": meta.annotations.unwrap_or_default(),
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": kind, "name": owner_name, "uid": owner.uid, "controller": true, "blockOwnerDeletion": true}],
    });
    match name {
        Some(n) => metadata["name"] = json!(n),
        None => metadata["generateName"] = json!(format!("{owner_name}-")),
    }
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": template.spec})
}

fn changed(current: Option<Value>, status: &Value) -> bool {
    let current = current.unwrap_or_else(|| json!({}));
    status
        .as_object()
        .is_some_and(|m| m.iter().any(|(k, v)| current.get(k).cloned().unwrap_or(json!(0)) != *v))
}

/// The StatefulSet's next step.
#[must_use]
pub fn statefulset(sts: &StatefulSet, pods: &[&Pod]) -> Decision {
    let spec = &sts.spec;
    let name = sts.metadata.name.clone().unwrap_or_default();
    let desired = usize::try_from(spec.replicas.unwrap_or(1).max(0)).unwrap_or(0);
    let revision = format!(
        "{name}-{}",
        super::deployment::template_hash(&serde_json::to_value(&spec.template).unwrap_or_default())
    );
    let ordinal = |p: &Pod| {
        p.metadata
            .name
            .as_deref()
            .and_then(|n| n.strip_prefix(&format!("{name}-")))
            .and_then(|o| o.parse::<usize>().ok())
    };
    let live: Vec<&Pod> = pods
        .iter()
        .copied()
        .filter(|p| p.metadata.deletion_timestamp.is_none() && ordinal(p).is_some())
        .collect();
    let mut decision = Decision::default();
    let highest = live.iter().filter_map(|p| ordinal(p)).max();
    if live.len() > desired {
        if let Some(top) = live.iter().find(|p| ordinal(p) == highest) {
            decision.delete.push(top.metadata.name.clone().unwrap_or_default());
        }
    } else if live.len() < desired && live.iter().all(|p| ready(p)) {
        let next = (0..desired)
            .find(|i| live.iter().all(|p| ordinal(p) != Some(*i)))
            .unwrap_or(0);
        decision.create.push(pod_from(
            &sts.metadata,
            "StatefulSet",
            &spec.template,
            Some(format!("{name}-{next}")),
            &[
                ("statefulset.kubernetes.io/pod-name", format!("{name}-{next}")),
                ("controller-revision-hash", revision.clone()),
            ],
        ));
    }
    let count = live.len() + decision.create.len();
    let ready_count = live.iter().filter(|p| ready(p)).count();
    let status = json!({
        "replicas": count, "readyReplicas": ready_count, "availableReplicas": ready_count,
        "currentReplicas": count, "updatedReplicas": count,
        "currentRevision": revision, "updateRevision": revision,
        "observedGeneration": sts.metadata.generation.unwrap_or(0),
    });
    let current = sts.status.as_ref().and_then(|s| serde_json::to_value(s).ok());
    decision.status = changed(current, &status).then_some(status);
    decision
}

/// The DaemonSet's next step (the simulator has one node).
#[must_use]
pub fn daemonset(ds: &DaemonSet, pods: &[&Pod]) -> Decision {
    let spec = &ds.spec;
    let live: Vec<&Pod> = pods
        .iter()
        .copied()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .collect();
    let mut decision = Decision::default();
    if live.is_empty() {
        decision
            .create
            .push(pod_from(&ds.metadata, "DaemonSet", &spec.template, None, &[]));
    }
    for extra in live.iter().skip(1) {
        decision.delete.push(extra.metadata.name.clone().unwrap_or_default());
    }
    let scheduled = live.len().min(1) + decision.create.len();
    let ready_count = live.iter().take(1).filter(|p| ready(p)).count();
    let status = json!({
        "desiredNumberScheduled": 1, "currentNumberScheduled": scheduled, "updatedNumberScheduled": scheduled,
        "numberReady": ready_count, "numberAvailable": ready_count, "numberMisscheduled": 0,
        "observedGeneration": ds.metadata.generation.unwrap_or(0),
    });
    let current = ds.status.as_ref().and_then(|s| serde_json::to_value(s).ok());
    decision.status = changed(current, &status).then_some(status);
    decision
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sts(replicas: i32) -> StatefulSet {
        serde_json::from_value(json!({
            "metadata": {"name": "db", "namespace": "default", "uid": "u", "generation": 1},
            "spec": {"replicas": replicas, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                     "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "db", "image": "db:1"}]}}}
        }))
        .unwrap()
    }

    fn pod(name: &str, is_ready: bool) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": name}, "status": {"conditions": [{"type": "Ready", "status": if is_ready { "True" } else { "False" }}]}})).unwrap()
    }

    #[test]
    fn statefulsets_create_in_order_and_wait_for_readiness() {
        let first = statefulset(&sts(3), &[]);
        assert_eq!(first.create[0]["metadata"]["name"], "db-0");
        let starting = pod("db-0", false);
        assert!(
            statefulset(&sts(3), &[&starting]).create.is_empty(),
            "db-1 waits for db-0 to be ready"
        );
        let ready0 = pod("db-0", true);
        assert_eq!(statefulset(&sts(3), &[&ready0]).create[0]["metadata"]["name"], "db-1");
        let pods = [pod("db-0", true), pod("db-1", true), pod("db-2", true)];
        let down = statefulset(&sts(1), &pods.iter().collect::<Vec<_>>());
        assert_eq!(down.delete, ["db-2"], "the highest ordinal goes first");
    }

    #[test]
    fn statefulset_status_is_healthy_when_all_ready() {
        let pods = [pod("db-0", true), pod("db-1", true)];
        let status = statefulset(&sts(2), &pods.iter().collect::<Vec<_>>()).status.unwrap();
        assert_eq!(
            (status["readyReplicas"].clone(), status["replicas"].clone()),
            (json!(2), json!(2))
        );
        assert_eq!(status["currentRevision"], status["updateRevision"]);
    }

    #[test]
    fn daemonsets_run_one_pod_on_the_single_node() {
        let ds: DaemonSet = serde_json::from_value(json!({
            "metadata": {"name": "agent", "namespace": "default", "uid": "u"},
            "spec": {"selector": {"matchLabels": {"app": "agent"}}, "template": {"metadata": {"labels": {"app": "agent"}}, "spec": {"containers": [{"name": "a", "image": "agent:1"}]}}}
        }))
        .unwrap();
        assert_eq!(daemonset(&ds, &[]).create.len(), 1);
        let running = pod("agent-x", true);
        let status = daemonset(&ds, &[&running]).status.unwrap();
        assert_eq!(
            (status["numberReady"].clone(), status["desiredNumberScheduled"].clone()),
            (json!(1), json!(1))
        );
    }
}
