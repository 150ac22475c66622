//! Defaults kube-apiserver gives built-in kinds when they are written, so that clients see the same
//! objects as on a real cluster (a controller comparing pod templates must cope with them).

use serde_json::{Map, Value, json};

use super::resources::ResourceType;

fn set_default(map: &mut Map<String, Value>, key: &str, value: Value) {
    map.entry(key.to_owned()).or_insert(value);
}

fn object<'a>(value: &'a mut Value, key: &str) -> Option<&'a mut Map<String, Value>> {
    let map = value.as_object_mut()?;
    let child = map.entry(key.to_owned()).or_insert_with(|| json!({}));
    child.as_object_mut()
}

fn container(c: &mut Value) {
    let image = c.get("image").and_then(Value::as_str).unwrap_or_default().to_owned();
    let Some(map) = c.as_object_mut() else { return };
    let tag = image.rsplit_once(':').map(|(_, t)| t).filter(|t| !t.contains('/'));
    let pull = if image.contains('@') || tag.is_some_and(|t| t != "latest") {
        "IfNotPresent"
    } else {
        "Always"
    };
    set_default(map, "imagePullPolicy", json!(pull));
    set_default(map, "terminationMessagePath", json!("/dev/termination-log"));
    set_default(map, "terminationMessagePolicy", json!("File"));
    set_default(map, "resources", json!({}));
    if let Some(ports) = map.get_mut("ports").and_then(Value::as_array_mut) {
        for port in ports.iter_mut().filter_map(Value::as_object_mut) {
            set_default(port, "protocol", json!("TCP"));
        }
    }
    for key in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(probe) = map.get_mut(key).and_then(Value::as_object_mut) {
            self::probe(probe);
        }
    }
}

/// `SetDefaults_Probe` and `SetDefaults_HTTPGetAction`.
fn probe(probe: &mut Map<String, Value>) {
    set_default(probe, "timeoutSeconds", json!(1));
    set_default(probe, "periodSeconds", json!(10));
    set_default(probe, "successThreshold", json!(1));
    set_default(probe, "failureThreshold", json!(3));
    if let Some(get) = probe.get_mut("httpGet").and_then(Value::as_object_mut) {
        set_default(get, "scheme", json!("HTTP"));
    }
}

/// Defaults of a pod spec (also inside templates).
fn pod_spec(spec: &mut Map<String, Value>, restart_policy: &str) {
    set_default(spec, "restartPolicy", json!(restart_policy));
    set_default(spec, "dnsPolicy", json!("ClusterFirst"));
    set_default(spec, "schedulerName", json!("default-scheduler"));
    set_default(spec, "terminationGracePeriodSeconds", json!(30));
    set_default(spec, "securityContext", json!({}));
    for key in ["containers", "initContainers"] {
        if let Some(list) = spec.get_mut(key).and_then(Value::as_array_mut) {
            list.iter_mut().for_each(container);
        }
    }
}

fn template(spec: &mut Value, restart_policy: &str) {
    if let Some(pod) = spec.get_mut("template").and_then(|t| object(t, "spec")) {
        pod_spec(pod, restart_policy);
    }
}

/// Applies the defaults of the object's kind (built-in kinds only; custom resources get their
/// schema's defaults instead).
pub fn apply(rt: &ResourceType, obj: &mut Value) {
    if rt.custom {
        return;
    }
    match (rt.group.as_str(), rt.plural.as_str()) {
        // `SetDefaults_Secret`: an empty type is Opaque.
        ("", "secrets") => {
            if let Some(map) = obj.as_object_mut()
                && map.get("type").and_then(Value::as_str).is_none_or(str::is_empty)
            {
                map.insert("type".into(), json!("Opaque"));
            }
        }
        ("", "pods") => {
            if let Some(spec) = object(obj, "spec") {
                pod_spec(spec, "Always");
            }
        }
        ("apps", "replicasets") => {
            if let Some(spec) = object(obj, "spec") {
                set_default(spec, "replicas", json!(1));
            }
            template(&mut obj["spec"], "Always");
        }
        ("apps", "deployments") => {
            if let Some(spec) = object(obj, "spec") {
                set_default(spec, "replicas", json!(1));
                set_default(spec, "revisionHistoryLimit", json!(10));
                set_default(spec, "progressDeadlineSeconds", json!(600));
                // `SetDefaults_Deployment`: a RollingUpdate strategy (the type when none is
                // given) fills in whichever of maxSurge and maxUnavailable is missing.
                let strategy = spec.entry("strategy").or_insert_with(|| json!({}));
                if let Some(strategy) = strategy.as_object_mut() {
                    set_default(strategy, "type", json!("RollingUpdate"));
                    if strategy.get("type") == Some(&json!("RollingUpdate")) {
                        let rolling = strategy.entry("rollingUpdate").or_insert_with(|| json!({}));
                        if let Some(rolling) = rolling.as_object_mut() {
                            set_default(rolling, "maxSurge", json!("25%"));
                            set_default(rolling, "maxUnavailable", json!("25%"));
                        }
                    }
                }
            }
            template(&mut obj["spec"], "Always");
        }
        ("apps", "statefulsets") => {
            if let Some(spec) = object(obj, "spec") {
                set_default(spec, "replicas", json!(1));
                set_default(spec, "revisionHistoryLimit", json!(10));
                set_default(spec, "podManagementPolicy", json!("OrderedReady"));
                set_default(
                    spec,
                    "updateStrategy",
                    json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}),
                );
            }
            template(&mut obj["spec"], "Always");
        }
        ("apps", "daemonsets") => {
            if let Some(spec) = object(obj, "spec") {
                set_default(spec, "revisionHistoryLimit", json!(10));
                set_default(
                    spec,
                    "updateStrategy",
                    json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}),
                );
            }
            template(&mut obj["spec"], "Always");
        }
        ("batch", "jobs") => {
            if let Some(spec) = object(obj, "spec") {
                set_default(spec, "backoffLimit", json!(6));
                set_default(spec, "completions", json!(1));
                set_default(spec, "parallelism", json!(1));
                set_default(spec, "completionMode", json!("NonIndexed"));
                set_default(spec, "suspend", json!(false));
            }
            template(&mut obj["spec"], "Never");
        }
        ("", "services") => {
            if let Some(spec) = object(obj, "spec") {
                set_default(spec, "type", json!("ClusterIP"));
                set_default(spec, "sessionAffinity", json!("None"));
                set_default(spec, "internalTrafficPolicy", json!("Cluster"));
                set_default(spec, "ipFamilies", json!(["IPv4"]));
                set_default(spec, "ipFamilyPolicy", json!("SingleStack"));
                if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
                    for port in ports.iter_mut().filter_map(Value::as_object_mut) {
                        set_default(port, "protocol", json!("TCP"));
                        if let Some(p) = port.get("port").cloned() {
                            set_default(port, "targetPort", p);
                        }
                    }
                }
            }
        }
        ("", "namespaces") => {
            let name = obj.pointer("/metadata/name").cloned().unwrap_or(Value::Null);
            if let Some(labels) = obj.get_mut("metadata").and_then(|m| object(m, "labels")) {
                labels.insert("kubernetes.io/metadata.name".into(), name);
            }
            if let Some(spec) = object(obj, "spec") {
                set_default(spec, "finalizers", json!(["kubernetes"]));
            }
        }
        _ => {}
    }
}

/// Status the server sets on creation (status writes through the main resource are ignored).
pub fn initial_status(rt: &ResourceType, obj: &mut Value, cluster_ip: impl FnOnce() -> String) {
    if rt.custom {
        return;
    }
    match (rt.group.as_str(), rt.plural.as_str()) {
        ("", "pods") => obj["status"] = json!({"phase": "Pending", "qosClass": "BestEffort"}),
        ("", "namespaces") => obj["status"] = json!({"phase": "Active"}),
        ("", "services") => {
            let ip = cluster_ip();
            let headless = obj.pointer("/spec/clusterIP").and_then(Value::as_str) == Some("None");
            if let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut)
                && !headless
                && !spec.contains_key("clusterIP")
            {
                spec.insert("clusterIP".into(), json!(ip));
                spec.insert("clusterIPs".into(), json!([ip]));
            }
            obj["status"] = json!({"loadBalancer": {}});
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::resources::builtins;

    fn rt(plural: &str) -> ResourceType {
        builtins().into_iter().find(|t| t.plural == plural).unwrap()
    }

    #[test]
    fn deployment_and_pod_template_defaults() {
        let mut d = json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "app:1.0", "ports": [{"containerPort": 80}]}, {"name": "b", "image": "app"}]}}}});
        apply(&rt("deployments"), &mut d);
        assert_eq!(d["spec"]["replicas"], 1);
        assert_eq!(d["spec"]["strategy"]["rollingUpdate"]["maxSurge"], "25%");
        let pod = &d["spec"]["template"]["spec"];
        assert_eq!(pod["restartPolicy"], "Always");
        assert_eq!(pod["terminationGracePeriodSeconds"], 30);
        assert_eq!(pod["containers"][0]["imagePullPolicy"], "IfNotPresent");
        assert_eq!(
            pod["containers"][1]["imagePullPolicy"], "Always",
            "an untagged image means latest"
        );
        assert_eq!(pod["containers"][0]["ports"][0]["protocol"], "TCP");
    }

    #[test]
    fn user_values_are_kept() {
        let mut rs =
            json!({"spec": {"replicas": 0, "template": {"spec": {"restartPolicy": "OnFailure", "containers": []}}}});
        apply(&rt("replicasets"), &mut rs);
        assert_eq!(rs["spec"]["replicas"], 0);
        assert_eq!(rs["spec"]["template"]["spec"]["restartPolicy"], "OnFailure");
    }

    #[test]
    fn services_get_a_cluster_ip_and_target_ports() {
        let mut svc = json!({"spec": {"ports": [{"port": 80}]}});
        apply(&rt("services"), &mut svc);
        initial_status(&rt("services"), &mut svc, || "10.96.0.10".into());
        assert_eq!(svc["spec"]["type"], "ClusterIP");
        assert_eq!(svc["spec"]["ports"][0]["targetPort"], 80);
        assert_eq!(svc["spec"]["clusterIP"], "10.96.0.10");
    }
}
