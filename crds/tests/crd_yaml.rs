//! The committed CRD YAML (`crds/crds.yaml`) matches the Rust types, and each CRD is fit for
//! `kubectl apply` and `kubectl explain`.
//!
//! After changing a type, regenerate with `SLUICE_BLESS=1 cargo test -p crds --test crd_yaml`.
// Test code: a failed unwrap is a failed test, which is what it should be.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use serde_json::Value;

/// kubectl's client-side apply stores the object in an annotation of at most 262144 bytes.
const LAST_APPLIED_LIMIT: usize = 262_144;

#[test]
fn committed_yaml_matches_the_types() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("crds.yaml");
    let rendered = crds::crdgen::render_all().unwrap();
    if std::env::var_os("SLUICE_BLESS").is_some() {
        std::fs::write(&path, &rendered).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == rendered,
        "crds/crds.yaml is out of date with the Rust types; run `SLUICE_BLESS=1 cargo test -p crds --test crd_yaml` and commit it"
    );
}

#[test]
fn every_crd_fits_the_client_side_apply_annotation() {
    for crd in crds::crdgen::all() {
        let size = serde_json::to_string(&crd).unwrap().len();
        println!("{}: {size} bytes as JSON", crds::crdgen::name_of(&crd));
        assert!(
            size < LAST_APPLIED_LIMIT / 2,
            "{} is {size} bytes",
            crds::crdgen::name_of(&crd)
        );
    }
}

/// Walks a schema, calling `visit(path, node)` on every node.
fn walk(path: &str, node: &Value, visit: &mut dyn FnMut(&str, &Value)) {
    visit(path, node);
    if let Some(props) = node.get("properties").and_then(Value::as_object) {
        for (name, child) in props {
            walk(&format!("{path}.{name}"), child, visit);
        }
    }
    if let Some(items) = node.get("items") {
        walk(&format!("{path}[]"), items, visit);
    }
    if let Some(extra) = node.get("additionalProperties").filter(|v| v.is_object()) {
        walk(&format!("{path}{{}}"), extra, visit);
    }
}

fn schemas() -> Vec<(String, Value)> {
    crds::crdgen::all()
        .into_iter()
        .map(|crd| {
            let name = crds::crdgen::name_of(&crd);
            let json = serde_json::to_value(&crd).unwrap();
            (name, json["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone())
        })
        .collect()
}

#[test]
fn every_field_has_a_description_for_kubectl_explain() {
    let mut missing = Vec::new();
    for (crd, schema) in schemas() {
        walk("", &schema, &mut |path, node| {
            let is_property = !path.is_empty() && !path.ends_with("[]") && !path.ends_with("{}");
            let described = node
                .get("description")
                .and_then(Value::as_str)
                .is_some_and(|d| !d.trim().is_empty());
            if is_property && !described && !["apiVersion", "kind", "metadata"].contains(&&path[1..]) {
                missing.push(format!("{crd}{path}"));
            }
        });
    }
    assert!(missing.is_empty(), "fields without description: {missing:#?}");
}

#[test]
fn every_schema_node_is_structural() {
    let mut bad = Vec::new();
    for (crd, schema) in schemas() {
        walk("", &schema, &mut |path, node| {
            let typed = node.get("type").is_some()
                || node.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true))
                || node.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true));
            let combinator = ["anyOf", "oneOf", "allOf", "not"].iter().any(|k| node.get(k).is_some());
            if !typed || combinator {
                bad.push(format!("{crd}{path}"));
            }
        });
    }
    assert!(bad.is_empty(), "non-structural schema nodes: {bad:#?}");
}

#[test]
fn rollout_crd_declares_what_argo_declares() {
    let crd = serde_json::to_value(crds::crdgen::all().remove(0)).unwrap();
    assert_eq!(crd["metadata"]["name"], "rollouts.argoproj.io");
    assert_eq!(crd["spec"]["names"]["shortNames"], serde_json::json!(["ro"]));
    let version = &crd["spec"]["versions"][0];
    assert_eq!(version["subresources"]["status"], serde_json::json!({}));
    assert_eq!(
        version["subresources"]["scale"],
        serde_json::json!({
            "specReplicasPath": ".spec.replicas",
            "statusReplicasPath": ".status.HPAReplicas",
            "labelSelectorPath": ".status.selector"
        })
    );
    let columns: Vec<&str> = version["additionalPrinterColumns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(columns, ["Desired", "Current", "Up-to-date", "Available", "Age"]);
    let status = &version["schema"]["openAPIV3Schema"]["properties"]["status"]["properties"];
    assert_eq!(status["observedGeneration"]["type"], "string");
    assert_eq!(status["HPAReplicas"]["type"], "integer");
    assert_eq!(status["stableRS"]["type"], "string");
}

#[test]
fn short_names_and_scopes_match_argo() {
    let expected = [
        ("rollouts.argoproj.io", "Namespaced", vec!["ro"]),
        ("analysistemplates.argoproj.io", "Namespaced", vec!["at"]),
        ("clusteranalysistemplates.argoproj.io", "Cluster", vec!["cat"]),
        ("analysisruns.argoproj.io", "Namespaced", vec!["ar"]),
        ("applications.argoproj.io", "Namespaced", vec!["app", "apps"]),
        ("appprojects.argoproj.io", "Namespaced", vec!["appproj", "appprojs"]),
        ("applicationsets.argoproj.io", "Namespaced", vec!["appset", "appsets"]),
    ];
    let crds = crds::crdgen::all();
    assert_eq!(crds.len(), expected.len());
    for (crd, (name, scope, short)) in crds.iter().zip(expected) {
        assert_eq!(crds::crdgen::name_of(crd), name);
        assert_eq!(crd.spec.scope, scope, "{name}");
        assert_eq!(crd.spec.names.short_names.clone().unwrap_or_default(), short, "{name}");
    }
}
