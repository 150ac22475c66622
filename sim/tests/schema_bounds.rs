//! Custom objects outside their CRD schema's bounds are refused with kube-apiserver's 422 and
//! message, and nothing is stored; objects within them are stored. CEL rules are not evaluated,
//! and the answer says so in a warning.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Api;
use kube::api::{DynamicObject, PostParams};
use kube::discovery::ApiResource;
use serde_json::{Value, json};
use sim::Sim;

fn crd() -> CustomResourceDefinition {
    serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
            "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {
                "type": "object",
                "properties": {"spec": {"type": "object",
                    "x-kubernetes-validations": [{"rule": "self.replicas >= 0", "message": "no"}],
                    "properties": {
                        "replicas": {"type": "integer", "minimum": 0, "maximum": 10},
                        "weight": {"type": "integer", "minimum": 0, "exclusiveMinimum": true, "multipleOf": 5},
                        "name": {"type": "string", "minLength": 2, "maxLength": 8, "pattern": "^[a-z]+$"},
                        "hosts": {"type": "array", "minItems": 1, "maxItems": 2, "uniqueItems": true, "items": {"type": "string"}},
                        "labels": {"type": "object", "maxProperties": 1, "additionalProperties": {"type": "string"}},
                        "since": {"type": "string", "format": "date-time"}
                    }}}
            }}}]
        }
    }))
    .unwrap()
}

fn widget(name: &str, spec: Value) -> DynamicObject {
    serde_json::from_value(
        json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": name}, "spec": spec}),
    )
    .unwrap()
}

#[tokio::test]
async fn each_schema_bound_is_enforced_with_kube_apiservers_message() {
    let sim = Sim::start().await.unwrap();
    let client = sim.client().unwrap();
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    crds.create(&PostParams::default(), &crd()).await.unwrap();
    let resource = ApiResource {
        group: "example.com".into(),
        version: "v1".into(),
        api_version: "example.com/v1".into(),
        kind: "Widget".into(),
        plural: "widgets".into(),
    };
    let widgets: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &resource);
    let cases = [
        (
            json!({"replicas": -1}),
            "spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0",
        ),
        (
            json!({"replicas": 11}),
            "spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10",
        ),
        (
            json!({"weight": 0}),
            "spec.weight: Invalid value: 0: spec.weight in body should be greater than 0",
        ),
        (
            json!({"weight": 7}),
            "spec.weight: Invalid value: 7: spec.weight in body should be a multiple of 5",
        ),
        (
            json!({"name": "a"}),
            "spec.name: Invalid value: \"a\": spec.name in body should be at least 2 chars long",
        ),
        (
            json!({"name": "abcdefghij"}),
            "spec.name: Too long: may not be more than 8 bytes",
        ),
        (
            json!({"name": "Ab"}),
            "spec.name: Invalid value: \"Ab\": spec.name in body should match '^[a-z]+$'",
        ),
        (
            json!({"hosts": []}),
            "spec.hosts: Invalid value: 0: spec.hosts in body should have at least 1 items",
        ),
        (
            json!({"hosts": ["a", "b", "c"]}),
            "spec.hosts: Too many: 3: must have at most 2 items",
        ),
        (
            json!({"hosts": ["a", "a"]}),
            "spec.hosts: Invalid value: \"\": spec.hosts in body shouldn't contain duplicates",
        ),
        (
            json!({"labels": {"a": "1", "b": "2"}}),
            "spec.labels: Too many: 2: must have at most 1 items",
        ),
        (
            json!({"since": "soon"}),
            "spec.since: Invalid value: \"soon\": spec.since in body must be of type date-time: \"soon\"",
        ),
    ];
    for (i, (spec, message)) in cases.into_iter().enumerate() {
        let name = format!("bad-{i}");
        let error = widgets
            .create(&PostParams::default(), &widget(&name, spec.clone()))
            .await
            .unwrap_err();
        let kube::Error::Api(status) = error else {
            panic!("{spec}: {error:?}")
        };
        assert_eq!((status.code, status.reason.as_str()), (422, "Invalid"), "{spec}");
        assert_eq!(
            status.message,
            format!("Widget.example.com \"{name}\" is invalid: {message}"),
            "{spec}"
        );
        assert!(widgets.get_opt(&name).await.unwrap().is_none(), "{spec} was stored");
    }
    // Within every bound: stored, with a warning that the CEL rule was not evaluated.
    let good = json!({"replicas": 3, "weight": 10, "name": "web", "hosts": ["a", "b"], "labels": {"a": "1"}, "since": "2026-01-02T03:04:05Z"});
    let request = http::Request::post("/apis/example.com/v1/namespaces/default/widgets")
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&widget("good", good)).unwrap())
        .unwrap();
    let response = reqwest::Client::new()
        .post(format!("{}{}", sim.url(), request.uri()))
        .header("content-type", "application/json")
        .body(request.into_body())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let warning = response.headers()["warning"].to_str().unwrap().to_string();
    assert!(
        warning.contains("does not evaluate x-kubernetes-validations (CEL) rules; not checked: spec"),
        "{warning}"
    );
    assert!(widgets.get_opt("good").await.unwrap().is_some());
}
