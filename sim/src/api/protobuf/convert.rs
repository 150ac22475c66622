//! From `k8s-pb` messages to the JSON objects kube-apiserver would have decoded from JSON, for the
//! kinds kubectl's generators send. Written by hand because `k8s-pb` types carry no serde: each
//! converter takes the fields it knows out of the message and then checks nothing is left, so an
//! unconverted field is an error, never a silent loss.

use std::collections::BTreeMap;

use base64::Engine as _;
use k8s_pb::api::core::v1 as core;
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
use prost::Message;
use serde_json::{Map, Value, json};

/// Why a body could not be converted.
#[derive(Debug)]
pub enum Error {
    /// The kind is not converted.
    Kind,
    /// A field that is set is not converted (its path).
    Field(String),
    /// The bytes are not that message.
    Decode(String),
}

type Result<T> = std::result::Result<T, Error>;

/// Whether protobuf bytes hold only zero values. Go's encoder writes the fields it does not
/// point to even when they are zero (`hostNetwork: false`, `hostname: ""`), which JSON would
/// leave out: those carry nothing. A length-delimited value is zero when it is empty or is itself
/// a message of zero values.
fn only_zeros(mut bytes: &[u8]) -> bool {
    use prost::encoding::{WireType, decode_key, decode_varint};
    while !bytes.is_empty() {
        let Ok((_, wire)) = decode_key(&mut bytes) else {
            return false;
        };
        let zero = match wire {
            WireType::Varint => decode_varint(&mut bytes).is_ok_and(|v| v == 0),
            WireType::SixtyFourBit | WireType::ThirtyTwoBit => {
                let n = if wire == WireType::SixtyFourBit { 8 } else { 4 };
                let Some((value, rest)) = bytes.split_at_checked(n) else {
                    return false;
                };
                bytes = rest;
                value.iter().all(|b| *b == 0)
            }
            WireType::LengthDelimited => {
                let Ok(len) = decode_varint(&mut bytes) else {
                    return false;
                };
                let Some((value, rest)) = usize::try_from(len).ok().and_then(|l| bytes.split_at_checked(l)) else {
                    return false;
                };
                bytes = rest;
                value.is_empty() || only_zeros(value)
            }
            WireType::StartGroup | WireType::EndGroup => false,
        };
        if !zero {
            return false;
        }
    }
    true
}

/// Fails when `rest` (a message whose converted fields were taken out) still holds something.
fn empty<M: Message>(rest: &M, path: &str) -> Result<()> {
    if only_zeros(&rest.encode_to_vec()) {
        Ok(())
    } else {
        Err(Error::Field(format!("{path} (a field the simulator does not decode)")))
    }
}

/// A JSON object being built.
#[derive(Default)]
struct Obj(Map<String, Value>);

impl Obj {
    /// Sets `key` unless the value is absent or an empty string (which JSON would leave out; the
    /// integers Go leaves out at zero are filtered where they are set).
    fn set(mut self, key: &str, value: Option<impl Into<Value>>) -> Self {
        if let Some(v) = value.map(Into::into).filter(|v| v.as_str() != Some("")) {
            self.0.insert(key.into(), v);
        }
        self
    }

    fn list(mut self, key: &str, values: Vec<Value>) -> Self {
        if !values.is_empty() {
            self.0.insert(key.into(), Value::Array(values));
        }
        self
    }

    fn strings(self, key: &str, values: Vec<String>) -> Self {
        self.list(key, values.into_iter().map(Value::String).collect())
    }

    fn map(mut self, key: &str, values: BTreeMap<String, String>) -> Self {
        if !values.is_empty() {
            self.0.insert(key.into(), json!(values));
        }
        self
    }

    fn child(mut self, key: &str, value: Option<Value>) -> Self {
        if let Some(v) = value {
            self.0.insert(key.into(), v);
        }
        self
    }

    fn done(self) -> Value {
        Value::Object(self.0)
    }
}

fn decode<M: Message + Default>(raw: &[u8]) -> Result<M> {
    M::decode(raw).map_err(|e| Error::Decode(e.to_string()))
}

/// The object of kind `kind` encoded in `raw`.
pub fn object(api_version: &str, kind: &str, raw: &[u8]) -> Result<Value> {
    match (api_version, kind) {
        ("v1", "Namespace") => namespace(decode(raw)?),
        ("v1", "ServiceAccount") => service_account(decode(raw)?),
        ("v1", "Secret") => secret(decode(raw)?),
        ("v1", "ConfigMap") => config_map(decode(raw)?),
        ("v1", "Pod") => pod(decode(raw)?),
        ("v1", "Service") => service(decode(raw)?),
        ("apps/v1", "Deployment") => deployment(decode(raw)?),
        ("batch/v1", "Job") => job(decode(raw)?),
        ("authentication.k8s.io/v1", "TokenRequest") => token_request(decode(raw)?),
        ("authorization.k8s.io/v1", "SelfSubjectAccessReview") => self_subject_access_review(decode(raw)?),
        _ => Err(Error::Kind),
    }
}

fn metadata(m: Option<meta::ObjectMeta>) -> Result<Option<Value>> {
    let Some(mut m) = m else { return Ok(None) };
    let out = Obj::default()
        .set("name", m.name.take())
        .set("generateName", m.generate_name.take())
        .set("namespace", m.namespace.take())
        .set("resourceVersion", m.resource_version.take())
        .map("labels", std::mem::take(&mut m.labels))
        .map("annotations", std::mem::take(&mut m.annotations))
        .strings("finalizers", std::mem::take(&mut m.finalizers));
    // Set by the server: what a client sends is ignored, as kube-apiserver ignores it.
    m.creation_timestamp = None;
    m.uid = None;
    m.generation = None;
    m.self_link = None;
    m.managed_fields.clear();
    empty(&m, "metadata")?;
    Ok(Some(out.done()))
}

fn selector(s: Option<meta::LabelSelector>) -> Result<Option<Value>> {
    let Some(mut s) = s else { return Ok(None) };
    let expressions: Vec<Value> = std::mem::take(&mut s.match_expressions)
        .into_iter()
        .map(|e| json!({"key": e.key, "operator": e.operator, "values": e.values}))
        .collect();
    let out = Obj::default()
        .map("matchLabels", std::mem::take(&mut s.match_labels))
        .list("matchExpressions", expressions);
    empty(&s, "selector")?;
    Ok(Some(out.done()))
}

fn int_or_string(v: Option<k8s_pb::apimachinery::pkg::util::intstr::IntOrString>) -> Option<Value> {
    let v = v?;
    match v.r#type {
        Some(1) => v.str_val.map(Value::String),
        _ => v.int_val.map(Value::from),
    }
}

fn quantities(map: BTreeMap<String, k8s_pb::apimachinery::pkg::api::resource::Quantity>) -> Option<Value> {
    (!map.is_empty()).then(|| {
        Value::Object(
            map.into_iter()
                .map(|(k, q)| (k, Value::String(q.string.unwrap_or_default())))
                .collect(),
        )
    })
}

fn container(mut c: core::Container) -> Result<Value> {
    let ports: Vec<Value> = std::mem::take(&mut c.ports)
        .into_iter()
        .map(|p| {
            Obj::default()
                .set("name", p.name)
                .set("containerPort", p.container_port)
                .set("hostPort", p.host_port.filter(|p| *p != 0))
                .set("protocol", p.protocol)
                .set("hostIP", p.host_ip)
                .done()
        })
        .collect();
    let mut env = Vec::new();
    for mut e in std::mem::take(&mut c.env) {
        env.push(
            Obj::default()
                .set("name", e.name.take())
                .set("value", e.value.take())
                .done(),
        );
        empty(&e, "containers[].env[]")?;
    }
    let resources = c.resources.take().map(|mut r| {
        Obj::default()
            .child("limits", quantities(std::mem::take(&mut r.limits)))
            .child("requests", quantities(std::mem::take(&mut r.requests)))
            .done()
    });
    let out = Obj::default()
        .set("name", c.name.take())
        .set("image", c.image.take())
        .strings("command", std::mem::take(&mut c.command))
        .strings("args", std::mem::take(&mut c.args))
        .set("workingDir", c.working_dir.take())
        .list("ports", ports)
        .list("env", env)
        .child("resources", resources)
        .set("imagePullPolicy", c.image_pull_policy.take())
        .set("terminationMessagePath", c.termination_message_path.take())
        .set("terminationMessagePolicy", c.termination_message_policy.take())
        .set("stdin", c.stdin.take())
        .set("stdinOnce", c.stdin_once.take())
        .set("tty", c.tty.take());
    empty(&c, "containers[]")?;
    Ok(out.done())
}

fn pod_spec(s: Option<core::PodSpec>) -> Result<Option<Value>> {
    let Some(mut s) = s else { return Ok(None) };
    let containers = std::mem::take(&mut s.containers)
        .into_iter()
        .map(container)
        .collect::<Result<Vec<_>>>()?;
    let init = std::mem::take(&mut s.init_containers)
        .into_iter()
        .map(container)
        .collect::<Result<Vec<_>>>()?;
    let out = Obj::default()
        .list("initContainers", init)
        .list("containers", containers)
        .set("restartPolicy", s.restart_policy.take())
        .set(
            "terminationGracePeriodSeconds",
            s.termination_grace_period_seconds.take(),
        )
        .set("activeDeadlineSeconds", s.active_deadline_seconds.take())
        .set("dnsPolicy", s.dns_policy.take())
        .set("serviceAccountName", s.service_account_name.take())
        .set("serviceAccount", s.service_account.take())
        .set("nodeName", s.node_name.take())
        .set("schedulerName", s.scheduler_name.take())
        .map("nodeSelector", std::mem::take(&mut s.node_selector));
    empty(&s, "the pod spec")?;
    Ok(Some(out.done()))
}

fn template(t: Option<core::PodTemplateSpec>) -> Result<Option<Value>> {
    let Some(t) = t else { return Ok(None) };
    Ok(Some(
        Obj::default()
            .child("metadata", metadata(t.metadata)?)
            .child("spec", pod_spec(t.spec)?)
            .done(),
    ))
}

fn namespace(n: core::Namespace) -> Result<Value> {
    let spec = n
        .spec
        .map(|s| Obj::default().strings("finalizers", s.finalizers).done());
    Ok(Obj::default()
        .child("metadata", metadata(n.metadata)?)
        .child("spec", spec)
        .done())
}

fn service_account(mut a: core::ServiceAccount) -> Result<Value> {
    let out = Obj::default()
        .child("metadata", metadata(a.metadata.take())?)
        .set("automountServiceAccountToken", a.automount_service_account_token.take());
    empty(&a, "ServiceAccount")?;
    Ok(out.done())
}

fn secret(mut s: core::Secret) -> Result<Value> {
    let data: BTreeMap<String, String> = std::mem::take(&mut s.data)
        .into_iter()
        .map(|(k, v)| (k, base64::engine::general_purpose::STANDARD.encode(v)))
        .collect();
    let out = Obj::default()
        .child("metadata", metadata(s.metadata.take())?)
        .map("data", data)
        .map("stringData", std::mem::take(&mut s.string_data))
        .set("type", s.r#type.take())
        .set("immutable", s.immutable.take());
    empty(&s, "Secret")?;
    Ok(out.done())
}

fn config_map(mut c: core::ConfigMap) -> Result<Value> {
    let binary: BTreeMap<String, String> = std::mem::take(&mut c.binary_data)
        .into_iter()
        .map(|(k, v)| (k, base64::engine::general_purpose::STANDARD.encode(v)))
        .collect();
    let out = Obj::default()
        .child("metadata", metadata(c.metadata.take())?)
        .map("data", std::mem::take(&mut c.data))
        .map("binaryData", binary)
        .set("immutable", c.immutable.take());
    empty(&c, "ConfigMap")?;
    Ok(out.done())
}

fn pod(p: core::Pod) -> Result<Value> {
    // A client's status is not stored; kubectl sends an empty one.
    Ok(Obj::default()
        .child("metadata", metadata(p.metadata)?)
        .child("spec", pod_spec(p.spec)?)
        .done())
}

fn service(s: core::Service) -> Result<Value> {
    let spec = match s.spec {
        None => None,
        Some(mut spec) => {
            let ports: Vec<Value> = std::mem::take(&mut spec.ports)
                .into_iter()
                .map(|p| {
                    Obj::default()
                        .set("name", p.name)
                        .set("protocol", p.protocol)
                        .set("appProtocol", p.app_protocol)
                        .set("port", p.port)
                        .child("targetPort", int_or_string(p.target_port))
                        .set("nodePort", p.node_port.filter(|p| *p != 0))
                        .done()
                })
                .collect();
            let out = Obj::default()
                .list("ports", ports)
                .map("selector", std::mem::take(&mut spec.selector))
                .set("clusterIP", spec.cluster_ip.take())
                .set("type", spec.r#type.take())
                .set("externalName", spec.external_name.take())
                .set("sessionAffinity", spec.session_affinity.take());
            empty(&spec, "spec")?;
            Some(out.done())
        }
    };
    Ok(Obj::default()
        .child("metadata", metadata(s.metadata)?)
        .child("spec", spec)
        .done())
}

fn deployment(d: k8s_pb::api::apps::v1::Deployment) -> Result<Value> {
    let spec = match d.spec {
        None => None,
        Some(mut spec) => {
            let strategy = spec.strategy.take().map(|s| {
                let rolling = s.rolling_update.map(|r| {
                    Obj::default()
                        .child("maxSurge", int_or_string(r.max_surge))
                        .child("maxUnavailable", int_or_string(r.max_unavailable))
                        .done()
                });
                Obj::default()
                    .set("type", s.r#type)
                    .child("rollingUpdate", rolling)
                    .done()
            });
            let out = Obj::default()
                .set("replicas", spec.replicas.take())
                .child("selector", selector(spec.selector.take())?)
                .child("template", template(spec.template.take())?)
                .child("strategy", strategy)
                .set("minReadySeconds", spec.min_ready_seconds.take().filter(|s| *s != 0))
                .set("revisionHistoryLimit", spec.revision_history_limit.take())
                .set("paused", spec.paused.take())
                .set("progressDeadlineSeconds", spec.progress_deadline_seconds.take());
            empty(&spec, "spec")?;
            Some(out.done())
        }
    };
    Ok(Obj::default()
        .child("metadata", metadata(d.metadata)?)
        .child("spec", spec)
        .done())
}

fn job(j: k8s_pb::api::batch::v1::Job) -> Result<Value> {
    let spec = match j.spec {
        None => None,
        Some(mut spec) => {
            let out = Obj::default()
                .set("parallelism", spec.parallelism.take())
                .set("completions", spec.completions.take())
                .set("backoffLimit", spec.backoff_limit.take())
                .set("activeDeadlineSeconds", spec.active_deadline_seconds.take())
                .set("ttlSecondsAfterFinished", spec.ttl_seconds_after_finished.take())
                .set("suspend", spec.suspend.take())
                .child("template", template(spec.template.take())?);
            empty(&spec, "spec")?;
            Some(out.done())
        }
    };
    Ok(Obj::default()
        .child("metadata", metadata(j.metadata)?)
        .child("spec", spec)
        .done())
}

fn token_request(t: k8s_pb::api::authentication::v1::TokenRequest) -> Result<Value> {
    let spec = match t.spec {
        None => None,
        Some(mut spec) => {
            let out = Obj::default()
                .strings("audiences", std::mem::take(&mut spec.audiences))
                .set("expirationSeconds", spec.expiration_seconds.take());
            empty(&spec, "spec")?;
            Some(out.done())
        }
    };
    Ok(Obj::default()
        .child("metadata", metadata(t.metadata)?)
        .child("spec", spec)
        .done())
}

fn self_subject_access_review(r: k8s_pb::api::authorization::v1::SelfSubjectAccessReview) -> Result<Value> {
    let spec = r.spec.unwrap_or_default();
    let resource = spec.resource_attributes.map(|a| {
        Obj::default()
            .set("namespace", a.namespace)
            .set("verb", a.verb)
            .set("group", a.group)
            .set("version", a.version)
            .set("resource", a.resource)
            .set("subresource", a.subresource)
            .set("name", a.name)
            .done()
    });
    let path = spec
        .non_resource_attributes
        .map(|a| Obj::default().set("path", a.path).set("verb", a.verb).done());
    let spec = Obj::default()
        .child("resourceAttributes", resource)
        .child("nonResourceAttributes", path)
        .done();
    Ok(Obj::default()
        .child("metadata", metadata(r.metadata)?)
        .child("spec", Some(spec))
        .done())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deployment_converts_to_the_json_kubectl_would_send() {
        let deployment = k8s_pb::api::apps::v1::Deployment {
            metadata: Some(meta::ObjectMeta {
                name: Some("web".into()),
                labels: BTreeMap::from([("app".into(), "web".into())]),
                creation_timestamp: Some(meta::Time {
                    seconds: Some(0),
                    nanos: None,
                }),
                ..Default::default()
            }),
            spec: Some(k8s_pb::api::apps::v1::DeploymentSpec {
                replicas: Some(2),
                selector: Some(meta::LabelSelector {
                    match_labels: BTreeMap::from([("app".into(), "web".into())]),
                    ..Default::default()
                }),
                template: Some(core::PodTemplateSpec {
                    metadata: Some(meta::ObjectMeta {
                        labels: BTreeMap::from([("app".into(), "web".into())]),
                        ..Default::default()
                    }),
                    spec: Some(core::PodSpec {
                        containers: vec![core::Container {
                            name: Some("nginx".into()),
                            image: Some("nginx:1".into()),
                            resources: Some(core::ResourceRequirements::default()),
                            ..Default::default()
                        }],
                        ..Default::default()
                    }),
                }),
                strategy: Some(k8s_pb::api::apps::v1::DeploymentStrategy::default()),
                ..Default::default()
            }),
            status: Some(k8s_pb::api::apps::v1::DeploymentStatus::default()),
        };
        let json = object("apps/v1", "Deployment", &deployment.encode_to_vec()).unwrap();
        assert_eq!(
            json,
            json!({"metadata": {"name": "web", "labels": {"app": "web"}},
                "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "nginx", "image": "nginx:1", "resources": {}}]}},
                    "strategy": {}}})
        );
    }

    #[test]
    fn a_field_that_is_not_converted_is_an_error_not_a_loss() {
        let pod = core::Pod {
            spec: Some(core::PodSpec {
                host_network: Some(true),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(
            matches!(object("v1", "Pod", &pod.encode_to_vec()), Err(Error::Field(f)) if f.starts_with("the pod spec"))
        );
        assert!(matches!(object("v1", "Node", &[]), Err(Error::Kind)));
    }
}
