//! The `app list` tree and the `appset get` view on data alone: ApplicationSets with the
//! Applications they own, parents with the Applications and sets they manage.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crds::gitops::{ApplicationSet, StoredApplication};
use gitops::appset::{Inputs, parameters};
use serde_json::json;

fn app(name: &str, parent: Option<&str>, owner: Option<&str>) -> StoredApplication {
    let mut meta = json!({"name": name, "namespace": "argocd"});
    if let Some(parent) = parent {
        meta["annotations"] =
            json!({"argocd.argoproj.io/tracking-id": format!("{parent}:argoproj.io/Application:argocd/{name}")});
    }
    if let Some(owner) = owner {
        meta["ownerReferences"] = json!([{"apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationSet",
            "name": owner, "uid": "u", "controller": true}]);
    }
    serde_json::from_value(json!({"metadata": meta, "spec": {"destination": {}},
        "status": {"sync": {"status": "Synced", "revision": "abcdef0123"}, "health": {"status": "Healthy"}}}))
    .unwrap()
}

fn set(name: &str, parent: Option<&str>) -> ApplicationSet {
    let mut meta = json!({"name": name, "namespace": "argocd"});
    if let Some(parent) = parent {
        meta["annotations"] =
            json!({"argocd.argoproj.io/tracking-id": format!("{parent}:argoproj.io/ApplicationSet:argocd/{name}")});
    }
    serde_json::from_value(json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationSet", "metadata": meta,
        "spec": {"generators": [{"list": {"elements": [{"service": "api"}, {"service": "Bad_Name"}]}}],
            "template": {"metadata": {"name": "{{service}}"}, "spec": {"source": {"repoURL": "r", "path": "{{service}}"},
                "destination": {"server": "https://kubernetes.default.svc", "namespace": "{{service}}"}}}},
        "status": {"conditions": [{"type": "ResourcesUpToDate", "status": "True", "reason": "ApplicationSetUpToDate",
            "message": "All applications have been generated successfully"}],
            "resources": [{"name": "api", "status": "Synced", "health": {"status": "Healthy"}}]}}))
    .unwrap()
}

#[test]
fn parents_sets_and_children_are_drawn_as_a_tree() {
    let apps = vec![
        app("worker", Some("root"), None),
        app("api", None, Some("microservices")),
        app("root", None, None),
        app("web", Some("root"), None),
        app("standalone", None, None),
    ];
    let sets = vec![set("microservices", Some("root"))];
    let listed = plugin::app_view::list(&apps, &sets, false);
    let width = listed.lines().next().unwrap().find("SYNC").unwrap();
    let names: Vec<String> = listed
        .lines()
        .skip(1)
        .map(|l| l.chars().take(width - 3).collect::<String>().trim_end().to_owned())
        .collect();
    assert_eq!(
        names,
        [
            "root",
            "├── ApplicationSet/microservices",
            "│   └── api",
            "├── web",
            "└── worker",
            "standalone"
        ],
        "{listed}"
    );
    assert!(
        listed.contains("ApplicationSet/microservices   -        Healthy"),
        "{listed}"
    );
}

#[test]
fn appset_get_shows_each_parameter_set_and_what_it_renders() {
    let set = set("microservices", None);
    let generated = parameters(&set.spec, &Inputs::default());
    let view = plugin::appset_view::get(&set, &generated);
    assert!(view.contains("Generators:  list"), "{view}");
    assert!(view.contains("Policy:      sync"), "{view}");
    assert!(view.contains("spec.generators[0][0] -> Application api"), "{view}");
    assert!(view.contains("      service = api"), "{view}");
    assert!(
        view.contains("spec.generators[0][1] -> spec.generators[0][1]: spec.template.metadata.name: \"Bad_Name\" is not a valid Application name"),
        "{view}"
    );
    assert!(
        view.contains("  api                            Synced     Healthy"),
        "{view}"
    );
}
