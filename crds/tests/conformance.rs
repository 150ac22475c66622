//! Every manifest users already write (../shared/conformance) loads into Sluice's types, survives a
//! round trip without losing a field, and validates as Argo's own validation says it should.
// Test code: a failed unwrap is a failed test, which is what it should be.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use crds::validation::{FieldError, Validate};
use crds::{AnalysisRun, AnalysisTemplate, AppProject, Application, ApplicationSet, ClusterAnalysisTemplate, Rollout};
use serde::Serialize;
use serde::de::DeserializeOwned;
use support::{conformance_dir, documents, normalize, yaml_files};

/// Decodes a document into `T`, serialises it back and returns the problems `validate()` finds.
fn round_trip<T: DeserializeOwned + Serialize + Validate>(doc: &serde_json::Value, origin: &str) -> Vec<FieldError> {
    let typed: T = serde_json::from_value(doc.clone()).unwrap_or_else(|e| panic!("{origin}: does not load: {e}"));
    let back = serde_json::to_value(&typed).unwrap();
    assert_eq!(
        normalize(&back),
        normalize(doc),
        "{origin}: serialising back changed the document"
    );
    typed.validate()
}

/// Loads and round-trips one document by kind; `None` for kinds Sluice does not define (Services).
fn check(doc: &serde_json::Value, origin: &str) -> Option<Vec<FieldError>> {
    let kind = doc["kind"].as_str().unwrap_or_default();
    Some(match kind {
        "Rollout" => round_trip::<Rollout>(doc, origin),
        "AnalysisTemplate" => round_trip::<AnalysisTemplate>(doc, origin),
        "ClusterAnalysisTemplate" => round_trip::<ClusterAnalysisTemplate>(doc, origin),
        "AnalysisRun" => round_trip::<AnalysisRun>(doc, origin),
        "Application" => round_trip::<Application>(doc, origin),
        "AppProject" => round_trip::<AppProject>(doc, origin),
        "ApplicationSet" => round_trip::<ApplicationSet>(doc, origin),
        "Service" => return None,
        other => panic!("{origin}: unexpected kind {other:?} in the conformance data"),
    })
}

fn origin(path: &std::path::Path, doc: &serde_json::Value) -> String {
    format!("{} ({} {})", path.display(), doc["kind"], doc["metadata"]["name"])
}

#[test]
fn every_conformance_document_loads_round_trips_and_validates_as_expected() {
    let dir = conformance_dir();
    let files = yaml_files(&dir);
    assert!(
        files.len() >= 14,
        "expected the 14 conformance files, found {}",
        files.len()
    );
    let mut checked = 0;
    for path in &files {
        let abbreviated = path.ends_with("seeds/rollout-api.yaml");
        for doc in documents(path) {
            let origin = origin(path, &doc);
            let Some(problems) = check(&doc, &origin) else { continue };
            checked += 1;
            let messages: Vec<String> = problems.iter().map(ToString::to_string).collect();
            if abbreviated && doc["kind"] == "Rollout" {
                // The founding documents leave out the selector and the pod template.
                assert_eq!(
                    messages,
                    ["spec.selector: required", "spec.template: required"],
                    "{origin}"
                );
            } else {
                assert!(
                    messages.is_empty(),
                    "{origin}: complete manifest reported problems: {messages:#?}"
                );
            }
        }
    }
    assert!(checked >= 16, "only {checked} Sluice documents were checked");
}

#[test]
fn validate_document_dispatches_by_kind() {
    let path = conformance_dir().join("seeds/rollout-api.yaml");
    let results: Vec<_> = documents(&path)
        .iter()
        .map(|doc| crds::validation::validate_document(doc).unwrap().map(|p| p.len()))
        .collect();
    assert_eq!(results, [Some(2), Some(0)]);
    let service = serde_json::json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"}});
    assert_eq!(crds::validation::validate_document(&service).unwrap(), None);
}

#[test]
fn a_document_of_the_wrong_shape_names_the_object_and_the_field() {
    let doc = serde_json::json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "api"},
        "spec": {"replicas": "ten"}
    });
    let err = crds::validation::validate_document(&doc).unwrap_err().to_string();
    assert_eq!(
        err,
        "Rollout api: spec.replicas: invalid type: string \"ten\", expected i32"
    );
}

#[test]
fn the_examples_complete_form_of_the_seed_rollout_is_valid() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/rollout-api.yaml");
    let docs = documents(&path);
    assert!(docs.iter().any(|d| d["kind"] == "Rollout"));
    for doc in &docs {
        let origin = origin(&path, doc);
        if let Some(problems) = check(doc, &origin) {
            assert!(problems.is_empty(), "{origin}: {problems:#?}");
        }
    }
}
