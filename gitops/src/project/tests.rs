//! Argo CD's project rules, table-driven, and the founding documents' `platform` project.

use super::*;

fn project(yaml: &str) -> AppProjectSpec {
    crds::yaml::from_str(yaml).unwrap()
}

fn platform() -> AppProjectSpec {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/conformance/seeds/appproject-platform.yaml"),
    )
    .unwrap();
    let object: serde_json::Value = crds::yaml::from_str(&text).unwrap();
    serde_json::from_value(object["spec"].clone()).unwrap()
}

#[test]
fn repositories_match_after_normalisation_with_negation() {
    let p = project("sourceRepos: ['https://github.com/myorg/*', '!https://github.com/myorg/secret*']");
    let cases = [
        ("https://github.com/myorg/k8s-config", true),
        ("https://GitHub.com/myorg/k8s-config.git/", true),
        ("https://github.com/myorg/secret-stuff", false),
        // Argo's rule: a denial that does not match counts as a match, so the `!` line permits it.
        ("https://github.com/other/repo", true),
    ];
    for (repo, allowed) in cases {
        assert_eq!(source_permitted(&p, repo), allowed, "{repo}");
    }
    assert_eq!(
        normalize_repo("git@github.com:MyOrg/Repo.git"),
        "ssh://git@github.com/myorg/repo"
    );
    let only_allow = project("sourceRepos: ['https://github.com/myorg/*']");
    assert!(!source_permitted(&only_allow, "https://github.com/other/repo"));
    let only_denial = project("sourceRepos: ['!https://bad.example/*']");
    assert!(source_permitted(&only_denial, "https://good.example/repo"));
    assert!(!source_permitted(&only_denial, "https://bad.example/repo"));
    assert!(!source_permitted(&project("sourceRepos: []"), "https://any"));
}

#[test]
fn destinations_need_a_match_and_no_denial() {
    let p = project(
        "destinations:\n- {server: 'https://kubernetes.default.svc', namespace: 'team-*'}\n- {name: prod-*, namespace: apps}\n- {server: '*', namespace: '!kube-system'}\n",
    );
    let d = |server, name, namespace| Destination {
        server,
        name,
        namespace,
    };
    let cases = [
        (d("https://kubernetes.default.svc", "", "team-a"), true),
        (d("https://other", "prod-eu", "apps"), true),
        (d("https://other", "", "apps"), true),
        (d("https://kubernetes.default.svc", "", "kube-system"), false),
        (d("", "staging", "apps"), false),
    ];
    for (destination, allowed) in cases {
        assert_eq!(destination_permitted(&p, &destination), allowed, "{destination:?}");
    }
}

#[test]
fn kinds_follow_whitelists_and_blacklists() {
    let p = platform();
    let cases = [
        ("", "Namespace", false, true),
        ("rbac.authorization.k8s.io", "ClusterRole", false, false),
        ("apps", "Deployment", true, true),
        ("", "ResourceQuota", true, false),
    ];
    for (group, kind, namespaced, allowed) in cases {
        assert_eq!(kind_permitted(&p, group, kind, namespaced), allowed, "{group}/{kind}");
    }
    let narrow = project("namespaceResourceWhitelist: [{group: apps, kind: '*'}]");
    assert!(kind_permitted(&narrow, "apps", "Deployment", true));
    assert!(!kind_permitted(&narrow, "", "ConfigMap", true));
}

#[test]
fn the_founding_platform_project_allows_what_it_lists() {
    let p = platform();
    assert!(source_permitted(&p, "https://github.com/myorg/k8s-config"));
    assert!(!source_permitted(&p, "https://github.com/someone/else"));
    let prod = Destination {
        server: "https://kubernetes.default.svc",
        name: "",
        namespace: "production",
    };
    assert!(destination_permitted(&p, &prod));
    assert!(!destination_permitted(
        &p,
        &Destination {
            namespace: "kube-system",
            ..prod
        }
    ));
    let everything = default_project();
    assert!(source_permitted(&everything, "https://anything"));
    assert!(destination_permitted(
        &everything,
        &Destination {
            namespace: "kube-system",
            ..prod
        }
    ));
    assert!(kind_permitted(
        &everything,
        "rbac.authorization.k8s.io",
        "ClusterRole",
        false
    ));
    assert_eq!(
        Violation::Source {
            repo: "https://x".into()
        }
        .message("platform"),
        "application repo https://x is not permitted in project 'platform' (spec.sourceRepos)"
    );
}
