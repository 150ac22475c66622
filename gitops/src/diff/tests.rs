use crds::gitops::ResourceIgnoreDifferences;
use serde_json::{Value, json};

use super::*;

fn deployment(replicas: i64) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "resourceVersion": "7", "generation": 3,
                     "managedFields": [{"manager": "hpa", "fieldsV1": {"f:spec": {"f:replicas": {}}}}]},
        "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "app", "image": "web:1"}]}}},
        "status": {"readyReplicas": 1}
    })
}

fn rule(kind: &str, edit: impl FnOnce(&mut ResourceIgnoreDifferences)) -> ResourceIgnoreDifferences {
    let mut r = ResourceIgnoreDifferences {
        group: Some("apps".into()),
        kind: kind.into(),
        ..ResourceIgnoreDifferences::default()
    };
    edit(&mut r);
    r
}

#[test]
fn what_counts_as_a_difference() {
    let live = deployment(5);
    let mut volatile = deployment(5);
    volatile["metadata"]["resourceVersion"] = json!("8");
    volatile["status"] = json!({"readyReplicas": 5});
    let table: Vec<(&str, Value, Vec<ResourceIgnoreDifferences>, bool)> = vec![
        ("identical", deployment(5), vec![], true),
        ("server-owned metadata and status never count", volatile, vec![], true),
        ("replicas differ", deployment(3), vec![], false),
        (
            "jsonPointers ignore replicas",
            deployment(3),
            vec![rule("Deployment", |r| r.json_pointers = vec!["/spec/replicas".into()])],
            true,
        ),
        (
            "a rule for another kind does not apply",
            deployment(3),
            vec![rule("StatefulSet", |r| r.json_pointers = vec!["/spec/replicas".into()])],
            false,
        ),
        (
            "a rule for another name does not apply",
            deployment(3),
            vec![rule("Deployment", |r| {
                r.name = Some("other".into());
                r.json_pointers = vec!["/spec/replicas".into()];
            })],
            false,
        ),
        (
            "kind globs",
            deployment(3),
            vec![rule("*", |r| r.json_pointers = vec!["/spec/replicas".into()])],
            true,
        ),
        (
            "jq paths",
            deployment(3),
            vec![rule("Deployment", |r| {
                r.jq_path_expressions = vec![".spec.replicas".into()]
            })],
            true,
        ),
        (
            "managed fields of a named manager",
            deployment(3),
            vec![rule("Deployment", |r| r.managed_fields_managers = vec!["hpa".into()])],
            true,
        ),
        (
            "managed fields of another manager",
            deployment(3),
            vec![rule("Deployment", |r| {
                r.managed_fields_managers = vec!["kubectl".into()]
            })],
            false,
        ),
    ];
    for (name, predicted, rules, synced) in table {
        let got = compare(&predicted, &live, &rules);
        assert_eq!(
            got.as_ref().map(|c| *c == Comparison::Synced),
            Ok(synced),
            "{name}: {got:?}"
        );
    }
    assert_eq!(
        compare(&deployment(3), &live, &[]),
        Ok(Comparison::OutOfSync(vec!["/spec/replicas".into()]))
    );
}

#[test]
fn a_broken_jq_rule_names_its_field() {
    let rules = vec![rule("Deployment", |r| r.jq_path_expressions = vec![".spec[".into()])];
    let error = compare(&deployment(3), &deployment(5), &rules).unwrap_err();
    assert_eq!(error.field, "spec.ignoreDifferences[0].jqPathExpressions[0]");
}

#[test]
fn unified_diff_from_live_to_desired() {
    let text = unified(
        "apps/Deployment/shop/web",
        Some(&json!({"spec": {"replicas": 5}})),
        Some(&json!({"spec": {"replicas": 3}})),
    );
    assert!(text.contains("--- live/apps/Deployment/shop/web"), "{text}");
    assert!(
        text.contains("-  replicas: 5") && text.contains("+  replicas: 3"),
        "{text}"
    );
    assert_eq!(unified("x", Some(&json!({"a": 1})), Some(&json!({"a": 1}))), "");
}

#[test]
fn respect_ignore_differences_keeps_the_live_values_of_ignored_fields() {
    let live = deployment(7);
    let rules = vec![
        rule("Deployment", |r| r.json_pointers = vec!["/spec/replicas".into()]),
        rule("Deployment", |r| {
            r.jq_path_expressions = vec![".spec.template.spec.containers[0].image".into()]
        }),
    ];
    let mut desired = deployment(3);
    desired["spec"]["template"]["spec"]["containers"][0]["image"] = json!("web:2");
    let kept = keep_ignored(&desired, &live, &rules).unwrap_or_default();
    assert_eq!(kept["spec"]["replicas"], 7);
    assert_eq!(kept["spec"]["template"]["spec"]["containers"][0]["image"], "web:1");
}

/// The rule the README gives for routes a traffic-routed canary drives: the weights the router
/// writes are not drift, and a sync keeps them; anything else in the route still is drift.
#[test]
fn the_routers_weights_are_ignored_and_kept_and_nothing_else() {
    let route = |stable: i64, canary: i64, path: &str| {
        json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
               "metadata": {"name": "api", "namespace": "shop"},
               "spec": {"rules": [{"matches": [{"path": {"value": path}}], "backendRefs": [
                   {"name": "api-stable", "port": 80, "weight": stable}, {"name": "api-canary", "port": 80, "weight": canary}]}]}})
    };
    let rules = vec![ResourceIgnoreDifferences {
        group: Some("gateway.networking.k8s.io".into()),
        kind: "HTTPRoute".into(),
        jq_path_expressions: vec![".spec.rules[].backendRefs[].weight".into()],
        ..ResourceIgnoreDifferences::default()
    }];
    let (git, live) = (route(100, 0, "/"), route(90, 10, "/"));
    assert_eq!(compare(&git, &live, &rules), Ok(Comparison::Synced));
    assert_eq!(
        compare(&route(100, 0, "/v2"), &live, &rules),
        Ok(Comparison::OutOfSync(vec!["/spec/rules".into()]))
    );
    let applied = keep_ignored(&route(100, 0, "/v2"), &live, &rules).unwrap_or_default();
    assert_eq!(applied["spec"]["rules"][0]["backendRefs"][1]["weight"], 10);
    assert_eq!(applied["spec"]["rules"][0]["matches"][0]["path"]["value"], "/v2");
}
