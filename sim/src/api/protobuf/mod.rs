//! Protobuf request bodies (`application/vnd.kubernetes.protobuf`), as kubectl's generators send
//! them (`kubectl create namespace|deployment|secret|configmap|service|job|token`, `kubectl run`,
//! `kubectl expose`, `kubectl auth can-i`): the `k8s\0` envelope and its `runtime.Unknown` are read,
//! the object decoded with `k8s-pb` into the JSON object the same request in JSON would carry, and
//! the answer is JSON, which clients accept. A kind, or a field of a known kind, that is not
//! converted gets a clear 415 naming it: nothing is silently dropped.

mod convert;

use prost::Message as _;
use serde_json::Value;

use super::status::ApiError;

/// The four bytes that open every Kubernetes protobuf body.
const MAGIC: &[u8] = b"k8s\0";

fn unsupported(what: &str) -> ApiError {
    let mut error = ApiError::unsupported_media_type("application/vnd.kubernetes.protobuf");
    error.message = format!(
        "the simulated API server cannot decode {what} from protobuf; send JSON or YAML (`kubectl apply -f` or `kubectl create -f`)"
    );
    error
}

/// The JSON object a protobuf body carries.
///
/// # Errors
/// 400 for a body that is not a Kubernetes protobuf envelope; 415 for a kind or field the
/// simulator does not decode.
pub fn decode(body: &[u8]) -> Result<Value, ApiError> {
    let envelope = body
        .strip_prefix(MAGIC)
        .ok_or_else(|| ApiError::bad_request("the protobuf body does not start with the k8s\\0 prefix"))?;
    let unknown = k8s_pb::apimachinery::pkg::runtime::Unknown::decode(envelope)
        .map_err(|e| ApiError::bad_request(format!("error decoding the protobuf envelope: {e}")))?;
    let type_meta = unknown.type_meta.unwrap_or_default();
    let api_version = type_meta.api_version.unwrap_or_default();
    let kind = type_meta.kind.unwrap_or_default();
    let raw = unknown.raw.unwrap_or_default();
    let mut object = convert::object(&api_version, &kind, &raw).map_err(|e| match e {
        convert::Error::Kind => unsupported(&format!("{kind} ({api_version}) objects")),
        convert::Error::Field(field) => unsupported(&format!("the field {field} of a {kind}")),
        convert::Error::Decode(message) => {
            ApiError::bad_request(format!("error decoding a {kind} from protobuf: {message}"))
        }
    })?;
    if let Some(map) = object.as_object_mut() {
        map.insert("apiVersion".into(), Value::String(api_version));
        map.insert("kind".into(), Value::String(kind));
    }
    Ok(object)
}
