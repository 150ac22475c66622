//! Admission webhooks over the real protocol, with kube-rs clients: a mutating webhook (the
//! Istio-like injector) changes objects on create, update, patch, server-side apply and dry runs;
//! a validating webhook refuses with its message; selectors, failure policies, side effects and
//! Service references behave as kube-apiserver's.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use sim::Sim;
use sim::webhook::{Behaviour, SIDECAR_STATUS, WebhookServer};

fn deployment(name: &str) -> Deployment {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {"selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "web", "image": "nginx:1"}]}}}
    }))
    .unwrap()
}

fn config_map(name: &str, labels: Value) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name, "labels": labels}, "data": {"a": "b"}})).unwrap()
}

async fn register(client: &kube::Client, kind: &str, name: &str, webhook: Value) {
    let plural = if kind == "MutatingWebhookConfiguration" {
        "mutatingwebhookconfigurations"
    } else {
        "validatingwebhookconfigurations"
    };
    let body = json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": kind, "metadata": {"name": name}, "webhooks": [webhook]});
    let request = http::Request::post(format!("/apis/admissionregistration.k8s.io/v1/{plural}"))
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&body).unwrap())
        .unwrap();
    client.request_text(request).await.unwrap();
}

fn injector_hook(server: &WebhookServer, side_effects: &str) -> Value {
    json!({
        "name": "sidecar-injector.istio.io",
        "clientConfig": {"url": server.url("/inject"), "caBundle": server.ca_bundle()},
        "rules": [{"operations": ["CREATE", "UPDATE"], "apiGroups": ["apps"], "apiVersions": ["v1"], "resources": ["deployments"]}],
        "sideEffects": side_effects, "admissionReviewVersions": ["v1"], "failurePolicy": "Fail"
    })
}

fn sidecar_status(d: &Deployment) -> String {
    d.metadata.annotations.as_ref().unwrap()[SIDECAR_STATUS].clone()
}

fn init_containers(d: &Deployment) -> Vec<String> {
    let spec = d.spec.template.spec.as_ref().unwrap();
    spec.init_containers.iter().flatten().map(|c| c.name.clone()).collect()
}

#[tokio::test]
async fn a_mutating_webhook_changes_every_kind_of_write() {
    let sim = Sim::start().await.unwrap();
    let client = sim.client().unwrap();
    let injector = WebhookServer::start(Behaviour::InjectSidecar).await.unwrap();
    register(
        &client,
        "MutatingWebhookConfiguration",
        "istio-sidecar-injector",
        injector_hook(&injector, "None"),
    )
    .await;
    let api: Api<Deployment> = Api::namespaced(client.clone(), "default");

    let created = api.create(&PostParams::default(), &deployment("web")).await.unwrap();
    let first = sidecar_status(&created);
    assert_eq!(init_containers(&created), ["istio-init"]);
    let stored = api.get("web").await.unwrap();
    assert_eq!(sidecar_status(&stored), first, "the mutation is stored");

    let patch = json!({"spec": {"replicas": 3}});
    let patched = api
        .patch("web", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    assert_ne!(sidecar_status(&patched), first, "each admission sets a new value");
    assert_eq!(init_containers(&patched), ["istio-init"]);

    let applied = serde_json::to_value(deployment("web")).unwrap();
    let mut applied = applied;
    applied["apiVersion"] = json!("apps/v1");
    applied["kind"] = json!("Deployment");
    let ssa = api
        .patch("web", &PatchParams::apply("gitops").force(), &Patch::Apply(&applied))
        .await
        .unwrap();
    assert_ne!(sidecar_status(&ssa), sidecar_status(&patched));

    let dry = api
        .create(
            &PostParams {
                dry_run: true,
                field_manager: None,
            },
            &deployment("dry"),
        )
        .await
        .unwrap();
    assert_eq!(init_containers(&dry), ["istio-init"], "dry runs are mutated too");
    assert!(api.get_opt("dry").await.unwrap().is_none(), "and not stored");

    let reviews = injector.reviews();
    let operations: Vec<&str> = reviews.iter().map(|r| r["operation"].as_str().unwrap()).collect();
    assert_eq!(operations, ["CREATE", "UPDATE", "UPDATE", "CREATE"]);
    assert_eq!(
        reviews[0]["kind"],
        json!({"group": "apps", "version": "v1", "kind": "Deployment"})
    );
    assert_eq!(reviews[0]["resource"]["resource"], "deployments");
    assert_eq!(reviews[0]["namespace"], "default");
    assert_eq!(reviews[0]["oldObject"], Value::Null);
    assert_eq!(
        reviews[1]["oldObject"]["metadata"]["annotations"][SIDECAR_STATUS],
        first
    );
    assert!(reviews[1]["userInfo"]["username"].is_string());
    assert_eq!(reviews[3]["dryRun"], true);
}

#[tokio::test]
async fn a_validating_webhook_refuses_with_its_message_and_selectors_narrow_it() {
    let sim = Sim::start().await.unwrap();
    let client = sim.client().unwrap();
    let guard = WebhookServer::start(Behaviour::Deny {
        code: 403,
        message: "config maps labelled deny=true are not allowed".into(),
    })
    .await
    .unwrap();
    sim.route_service("policy", "guard", &guard.base_url());
    register(
        &client,
        "ValidatingWebhookConfiguration",
        "guard",
        json!({
            "name": "guard.policy.example.com",
            "clientConfig": {"service": {"namespace": "policy", "name": "guard", "path": "/validate"}, "caBundle": guard.ca_bundle()},
            "rules": [{"operations": ["CREATE", "DELETE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["configmaps"]}],
            "objectSelector": {"matchLabels": {"deny": "true"}},
            "namespaceSelector": {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["default"]}]},
            "sideEffects": "None", "admissionReviewVersions": ["v1"]
        }),
    )
    .await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let error = api
        .create(&PostParams::default(), &config_map("bad", json!({"deny": "true"})))
        .await
        .unwrap_err();
    let kube::Error::Api(status) = error else {
        panic!("{error:?}")
    };
    assert_eq!((status.code, status.reason.as_str()), (403, "Forbidden"));
    assert_eq!(
        status.message,
        "admission webhook \"guard.policy.example.com\" denied the request: config maps labelled deny=true are not allowed"
    );
    assert!(api.get_opt("bad").await.unwrap().is_none(), "nothing stored");
    // Outside the object selector, and in another namespace: not asked.
    api.create(&PostParams::default(), &config_map("fine", json!({})))
        .await
        .unwrap();
    let other: Api<ConfigMap> = Api::namespaced(client.clone(), "kube-system");
    other
        .create(
            &PostParams::default(),
            &config_map("elsewhere", json!({"deny": "true"})),
        )
        .await
        .unwrap();
    assert_eq!(
        guard.reviews().len(),
        1,
        "only the matching request reached the webhook"
    );
    // Deletion is validated with the object as oldObject.
    let denied = other.delete("elsewhere", &DeleteParams::default()).await;
    assert!(denied.is_ok(), "kube-system is outside the namespace selector");
}

#[tokio::test]
async fn failure_policies_and_side_effects_decide_what_a_broken_webhook_does() {
    let sim = Sim::start().await.unwrap();
    let client = sim.client().unwrap();
    let down = WebhookServer::start(Behaviour::Allow).await.unwrap();
    let (url, ca) = (down.url("/x"), down.ca_bundle());
    down.stop();
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let hook = |name: &str, policy: &str, label: &str| {
        json!({"name": name, "clientConfig": {"url": url, "caBundle": ca},
            "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["configmaps"]}],
            "objectSelector": {"matchLabels": {"policy": label}}, "failurePolicy": policy, "sideEffects": "None",
            "admissionReviewVersions": ["v1"], "timeoutSeconds": 2})
    };
    register(
        &client,
        "ValidatingWebhookConfiguration",
        "ignore",
        hook("ignore.example.com", "Ignore", "ignore"),
    )
    .await;
    register(
        &client,
        "ValidatingWebhookConfiguration",
        "fail",
        hook("fail.example.com", "Fail", "fail"),
    )
    .await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    api.create(
        &PostParams::default(),
        &config_map("ignored", json!({"policy": "ignore"})),
    )
    .await
    .unwrap();
    let error = api
        .create(&PostParams::default(), &config_map("failed", json!({"policy": "fail"})))
        .await
        .unwrap_err();
    let kube::Error::Api(status) = error else {
        panic!("{error:?}")
    };
    assert_eq!((status.code, status.reason.as_str()), (500, "InternalError"));
    assert!(
        status.message.starts_with(
            "Internal error occurred: failed calling webhook \"fail.example.com\": failed to call webhook: Post"
        ),
        "{}",
        status.message
    );
    assert!(api.get_opt("failed").await.unwrap().is_none());

    // A webhook with side effects refuses dry runs instead of being called by them.
    let live = WebhookServer::start(Behaviour::InjectSidecar).await.unwrap();
    register(
        &client,
        "MutatingWebhookConfiguration",
        "unknown-effects",
        injector_hook(&live, "Unknown"),
    )
    .await;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let error = deployments
        .create(
            &PostParams {
                dry_run: true,
                field_manager: None,
            },
            &deployment("web"),
        )
        .await
        .unwrap_err();
    let kube::Error::Api(status) = error else {
        panic!("{error:?}")
    };
    assert_eq!(status.code, 400);
    assert_eq!(
        status.message,
        "admission webhook \"sidecar-injector.istio.io\" does not support dry run"
    );
    assert!(live.reviews().is_empty());
}
