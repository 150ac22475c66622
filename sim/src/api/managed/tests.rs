//! Server-side apply semantics, each test naming the Kubernetes behaviour it mirrors.

use serde_json::{Value, json};

use super::*;
use crate::api::resources::builtins;

fn deployments() -> ResourceType {
    builtins().into_iter().find(|t| t.plural == "deployments").unwrap()
}

fn deployment(containers: Value, replicas: i64) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": replicas, "template": {"spec": {"containers": containers}}}
    })
}

fn managers(obj: &Value) -> Vec<(String, String)> {
    entries(obj).into_iter().map(|e| (e.manager, e.operation)).collect()
}

#[test]
fn apply_creates_with_an_apply_entry() {
    let obj = apply(
        &deployments(),
        None,
        &deployment(json!([{"name": "app", "image": "app:1"}]), 2),
        "gitops",
        false,
        Part::Main,
        "t",
    )
    .unwrap();
    assert_eq!(managers(&obj), [("gitops".to_owned(), "Apply".to_owned())]);
    let fields = obj["metadata"]["managedFields"][0]["fieldsV1"].clone();
    assert_eq!(fields["f:spec"]["f:replicas"], json!({}));
    assert_eq!(
        fields["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"app\"}"]["f:image"],
        json!({})
    );
}

#[test]
fn changing_a_field_another_manager_owns_is_a_conflict_naming_it() {
    let rt = deployments();
    let mut live = deployment(json!([{"name": "app", "image": "app:1"}]), 2);
    record_update(&rt, None, &mut live, "kubectl-client-side-apply", Part::Main, "t");
    let err = apply(
        &rt,
        Some(&live),
        &deployment(json!([{"name": "app", "image": "app:1"}]), 5),
        "gitops",
        false,
        Part::Main,
        "t",
    )
    .unwrap_err();
    assert_eq!((err.code, err.reason), (409, "Conflict"));
    assert_eq!(
        err.message,
        "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.replicas"
    );
    // The same value is no conflict: ownership becomes shared.
    assert!(
        apply(
            &rt,
            Some(&live),
            &deployment(json!([{"name": "app", "image": "app:1"}]), 2),
            "gitops",
            false,
            Part::Main,
            "t"
        )
        .is_ok()
    );
    // force takes the field over.
    let forced = apply(
        &rt,
        Some(&live),
        &deployment(json!([{"name": "app", "image": "app:1"}]), 5),
        "gitops",
        true,
        Part::Main,
        "t",
    )
    .unwrap();
    assert_eq!(forced["spec"]["replicas"], 5);
    let owners = entries(&forced);
    let csa = owners
        .iter()
        .find(|e| e.manager == "kubectl-client-side-apply")
        .unwrap();
    assert!(
        value_at(&csa.fields.to_json(), &["f:spec".into(), "f:replicas".into()]).is_none(),
        "the old owner lost .spec.replicas"
    );
}

#[test]
fn fields_a_manager_stops_applying_are_removed_unless_someone_else_owns_them() {
    let rt = deployments();
    let two = json!([{"name": "app", "image": "app:1"}, {"name": "sidecar", "image": "proxy:1"}]);
    let live = apply(&rt, None, &deployment(two, 2), "gitops", false, Part::Main, "t").unwrap();
    // Another manager adds an env var to the app container.
    let mut edited = live.clone();
    edited["spec"]["template"]["spec"]["containers"][0]["env"] = json!([{"name": "DEBUG", "value": "1"}]);
    record_update(&rt, Some(&live), &mut edited, "kubectl-edit", Part::Main, "t");
    // Applying only the app container drops the sidecar but keeps the other manager's env var.
    let after = apply(
        &rt,
        Some(&edited),
        &deployment(json!([{"name": "app", "image": "app:2"}]), 2),
        "gitops",
        false,
        Part::Main,
        "t",
    )
    .unwrap();
    let containers = after["spec"]["template"]["spec"]["containers"].clone();
    assert_eq!(
        containers,
        json!([{"name": "app", "image": "app:2", "env": [{"name": "DEBUG", "value": "1"}]}])
    );
}

#[test]
fn dropped_labels_are_removed() {
    let rt = deployments();
    let mut first = deployment(json!([]), 1);
    first["metadata"]["labels"] = json!({"a": "1", "b": "2"});
    let live = apply(&rt, None, &first, "gitops", false, Part::Main, "t").unwrap();
    let mut second = deployment(json!([]), 1);
    second["metadata"]["labels"] = json!({"a": "1"});
    let after = apply(&rt, Some(&live), &second, "gitops", false, Part::Main, "t").unwrap();
    assert_eq!(after["metadata"]["labels"], json!({"a": "1"}));
}

#[test]
fn manager_defaults_to_the_user_agent_product() {
    assert_eq!(
        manager_name(None, "kubectl/v1.32.4 (linux/amd64) kubernetes/abc"),
        "kubectl"
    );
    assert_eq!(manager_name(Some("sluice"), "kube-rs/5"), "sluice");
}

#[test]
fn an_omitted_key_field_takes_its_default_so_a_reapply_matches_the_defaulted_item() {
    // kube-apiserver defaults `protocol` (TCP) on the stored port; structured-merge-diff gives
    // the omitted key the same default, so applying the same manifest again adds no second port.
    let applied = deployment(
        json!([{"name": "app", "image": "app:1", "ports": [{"containerPort": 80}]}]),
        1,
    );
    let mut live = apply(&deployments(), None, &applied, "gitops", false, Part::Main, "t").unwrap();
    live["spec"]["template"]["spec"]["containers"][0]["ports"][0]["protocol"] = json!("TCP");
    let again = apply(&deployments(), Some(&live), &applied, "gitops", false, Part::Main, "t").unwrap();
    assert_eq!(
        again["spec"]["template"]["spec"]["containers"][0]["ports"],
        json!([{"containerPort": 80, "protocol": "TCP"}])
    );
    let fields = &again["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"app\"}"]
        ["f:ports"];
    assert!(
        fields.get("k:{\"containerPort\":80,\"protocol\":\"TCP\"}").is_some(),
        "{fields}"
    );
}
