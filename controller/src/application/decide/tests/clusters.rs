//! The Application decision about its destination cluster: one no Secret declares is an
//! InvalidSpecError, one that does not answer makes the Application Unknown (and its deletion
//! waits), and the project judges the cluster by the server and name its Secret gives.

use serde_json::json;

use super::super::super::snapshot::{ClusterRef, InvalidSpec, Unobserved};
use super::super::*;
use super::{app, cm, missing, snapshot};

fn condition<'a>(d: &'a Decision, type_: &str) -> Option<&'a str> {
    d.status
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
        .map(|c| c.message.as_str())
}

fn automated() -> serde_json::Value {
    json!({"automated": {"prune": true}})
}

#[test]
fn an_unknown_cluster_is_an_invalid_spec() {
    let mut snap = snapshot(app(automated(), json!({})), vec![missing(cm("a", 0))]);
    snap.cluster = Err(InvalidSpec(
        "spec.destination: cluster \"https://prod.example\" is not known".into(),
    ));
    let d = decide(&snap);
    assert!(d.actions.is_empty());
    assert_eq!(
        condition(&d, "InvalidSpecError"),
        Some("spec.destination: cluster \"https://prod.example\" is not known")
    );
}

#[test]
fn an_unreachable_cluster_makes_only_this_application_unknown() {
    let unreachable = "cluster https://prod.example is unreachable: connection refused";
    let mut snap = snapshot(app(automated(), json!({})), Vec::new());
    snap.cluster = Ok(ClusterRef {
        server: "https://prod.example".into(),
        name: "prod".into(),
        unreachable: Some(unreachable.into()),
    });
    snap.source = Err(Unobserved::Unreadable(unreachable.into()));
    let d = decide(&snap);
    assert!(
        d.actions.is_empty(),
        "nothing is synced to a cluster that does not answer"
    );
    assert_eq!(d.status.sync.as_ref().map(|s| s.status.as_str()), Some("Unknown"));
    let health = d.status.health.as_ref().and_then(|h| h.status.as_deref());
    assert_eq!(health, Some("Unknown"));
    assert_eq!(condition(&d, "ComparisonError"), Some(unreachable));

    let mut deleting = snap.clone();
    deleting.app.metadata.deletion_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
        "2026-12-02T12:00:00Z".parse().unwrap_or_default(),
    ));
    deleting.app.metadata.finalizers = Some(vec![crds::keys::RESOURCES_FINALIZER.into()]);
    assert!(
        decide(&deleting).actions.is_empty(),
        "the finalizer stays until the cluster answers and its resources can be deleted"
    );
}

#[test]
fn the_project_judges_the_cluster_its_secret_names() {
    let mut snap = snapshot(app(automated(), json!({})), vec![missing(cm("a", 0))]);
    snap.project = Ok(serde_json::from_value(
        json!({"sourceRepos": ["*"], "destinations": [{"name": "staging", "namespace": "*"}]}),
    )
    .unwrap_or_default());
    snap.cluster = Ok(ClusterRef {
        server: "https://prod.example".into(),
        name: "prod".into(),
        unreachable: None,
    });
    let refused = decide(&snap);
    assert!(condition(&refused, "InvalidSpecError").is_some_and(|m| m.contains("https://prod.example")));
    snap.cluster = Ok(ClusterRef {
        server: "https://staging.example".into(),
        name: "staging".into(),
        unreachable: None,
    });
    assert_eq!(condition(&decide(&snap), "InvalidSpecError"), None);
}
