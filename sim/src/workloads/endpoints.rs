//! EndpointSlices: for a Service with a selector, one slice listing the pods it selects, ready or
//! not, with their IPs and ports, as the endpoint-slice controller maintains it.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Pod, Service};
use serde_json::{Value, json};

/// Label linking a slice to its Service.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// Whether a Service selects a pod (a Service without a selector selects nothing here).
#[must_use]
pub fn selects(service: &Service, pod: &Pod) -> bool {
    let Some(selector) = service
        .spec
        .as_ref()
        .and_then(|s| s.selector.as_ref())
        .filter(|s| !s.is_empty())
    else {
        return false;
    };
    let labels = pod.metadata.labels.clone().unwrap_or_default();
    pod.metadata.namespace == service.metadata.namespace && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

fn ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// The port a service port reaches on a pod: a number, or a named container port.
fn target_port(port: &k8s_openapi::api::core::v1::ServicePort, pods: &[&Pod]) -> Option<i32> {
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
    match &port.target_port {
        None => Some(port.port),
        Some(IntOrString::Int(n)) => Some(*n),
        Some(IntOrString::String(name)) => pods.iter().find_map(|p| {
            p.spec
                .as_ref()?
                .containers
                .iter()
                .flat_map(|c| c.ports.iter().flatten())
                .find(|cp| cp.name.as_deref() == Some(name.as_str()))
                .map(|cp| cp.container_port)
        }),
    }
}

/// The slice for a Service, named after it, given the pods in its namespace.
#[must_use]
pub fn slice(service: &Service, pods: &[Pod]) -> Option<Value> {
    service.spec.as_ref()?.selector.as_ref().filter(|s| !s.is_empty())?;
    let name = service.metadata.name.clone()?;
    let selected: Vec<&Pod> = pods
        .iter()
        .filter(|p| selects(service, p) && p.status.as_ref().and_then(|s| s.pod_ip.as_ref()).is_some())
        .collect();
    let endpoints: Vec<Value> = selected
        .iter()
        .map(|p| {
            let terminating = p.metadata.deletion_timestamp.is_some();
            json!({
                "addresses": [p.status.as_ref().and_then(|s| s.pod_ip.clone())],
                "conditions": {"ready": ready(p) && !terminating, "serving": ready(p), "terminating": terminating},
                "targetRef": {"kind": "Pod", "name": p.metadata.name, "namespace": p.metadata.namespace, "uid": p.metadata.uid},
            })
        })
        .collect();
    let ports: Vec<Value> = service
        .spec
        .as_ref()?
        .ports
        .iter()
        .flatten()
        .filter_map(|port| {
            let number = target_port(port, &selected)?;
            Some(json!({"name": port.name.clone().unwrap_or_default(), "port": number, "protocol": port.protocol.clone().unwrap_or_else(|| "TCP".into())}))
        })
        .collect();
    Some(json!({
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": name,
            "namespace": service.metadata.namespace,
            "labels": BTreeMap::from([(SERVICE_NAME_LABEL, name.clone()), ("endpointslice.kubernetes.io/managed-by", "sluice-sim".into())]),
            "ownerReferences": [{"apiVersion": "v1", "kind": "Service", "name": name, "uid": service.metadata.uid, "controller": true, "blockOwnerDeletion": true}],
        },
        "addressType": "IPv4",
        "endpoints": endpoints,
        "ports": ports,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(selector: Value) -> Service {
        serde_json::from_value(json!({
            "metadata": {"name": "api-stable", "namespace": "default", "uid": "svc"},
            "spec": {"selector": selector, "ports": [{"port": 80, "targetPort": "http"}]}
        }))
        .unwrap()
    }

    fn pod(name: &str, labels: Value, ready: bool) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": "default", "uid": name, "labels": labels},
            "spec": {"containers": [{"name": "app", "ports": [{"name": "http", "containerPort": 8080}]}]},
            "status": {"podIP": format!("10.244.0.{}", name.len()), "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]}
        }))
        .unwrap()
    }

    #[test]
    fn slice_lists_selected_pods_with_readiness_and_named_ports() {
        let svc = service(json!({"app": "api", "rollouts-pod-template-hash": "abc"}));
        let pods = [
            pod(
                "stable",
                json!({"app": "api", "rollouts-pod-template-hash": "abc"}),
                true,
            ),
            pod(
                "starting",
                json!({"app": "api", "rollouts-pod-template-hash": "abc"}),
                false,
            ),
            pod(
                "canary",
                json!({"app": "api", "rollouts-pod-template-hash": "def"}),
                true,
            ),
        ];
        let s = slice(&svc, &pods).unwrap();
        let names: Vec<&str> = s["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["targetRef"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["stable", "starting"]);
        assert_eq!(s["endpoints"][1]["conditions"]["ready"], false);
        assert_eq!(s["ports"], json!([{"name": "", "port": 8080, "protocol": "TCP"}]));
        assert_eq!(s["metadata"]["labels"][SERVICE_NAME_LABEL], "api-stable");
    }

    #[test]
    fn services_without_selector_get_no_slice() {
        assert!(slice(&service(json!({})), &[]).is_none());
    }
}
