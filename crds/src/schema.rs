//! Hand-written OpenAPI fragments for fields whose full Kubernetes schema would bloat the CRDs.
//!
//! A Rollout embeds a whole pod template and a job provider embeds a whole Job spec. Inlining their
//! schemas makes each CRD larger than the 262144-byte annotation that client-side `kubectl apply`
//! needs, which is why Argo's own CRDs only install with server-side apply. Sluice keeps the Rust
//! types exact (so the controller still deserialises and checks them) and publishes a schema that
//! types the metadata and preserves the rest verbatim.

use schemars::{Schema, SchemaGenerator, json_schema};

/// Any JSON value, kept verbatim by the API server.
pub fn any_value(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "x-kubernetes-preserve-unknown-fields": true })
}

/// A JSON object whose fields are kept verbatim by the API server.
pub fn any_object(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "object", "x-kubernetes-preserve-unknown-fields": true })
}

/// A list of JSON objects kept verbatim.
pub fn any_object_list(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array",
        "items": { "type": "object", "x-kubernetes-preserve-unknown-fields": true }
    })
}

fn string_map(description: &str) -> serde_json::Value {
    serde_json::json!({
        "type": "object",
        "description": description,
        "additionalProperties": { "type": "string" }
    })
}

/// A pod template: labels and annotations typed, the pod spec kept verbatim.
pub fn pod_template(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "properties": {
            "metadata": {
                "type": "object",
                "description": "Labels and annotations given to every pod created from this template.",
                "properties": {
                    "labels": string_map("Labels of the pods; they must match spec.selector."),
                    "annotations": string_map("Annotations of the pods.")
                },
                "x-kubernetes-preserve-unknown-fields": true
            },
            "spec": {
                "type": "object",
                "description": "The pod spec (core/v1 PodSpec): containers, volumes, and so on.",
                "x-kubernetes-preserve-unknown-fields": true
            }
        }
    })
}

/// A batch/v1 JobSpec kept verbatim.
pub fn job_spec(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "object", "x-kubernetes-preserve-unknown-fields": true })
}
