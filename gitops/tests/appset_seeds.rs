//! The founding ApplicationSets (`../shared/conformance/seeds/`) expand to exactly the
//! Applications they describe.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crds::gitops::ApplicationSetSpec;
use gitops::appset::{Inputs, Revision, clusters::Cluster, parameters, template};
use serde_json::Value;

fn seed(file: &str) -> ApplicationSetSpec {
    let path = format!("{}/../../shared/conformance/seeds/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let doc: Value = crds::yaml::from_str(&text).unwrap();
    serde_json::from_value(doc["spec"].clone()).unwrap()
}

fn expand(spec: &ApplicationSetSpec, inputs: &Inputs) -> Vec<Value> {
    parameters(spec, inputs)
        .unwrap()
        .iter()
        .map(|(field, p)| template::render(&spec.template, p, false, "argocd", field).unwrap())
        .collect()
}

fn cluster(name: &str, server: &str, env: &str) -> Cluster {
    Cluster {
        name: name.into(),
        server: server.into(),
        labels: [("env".to_owned(), env.to_owned())].into(),
        ..Cluster::default()
    }
}

#[test]
fn the_list_seed_gives_one_application_per_service() {
    let apps = expand(&seed("applicationset-list.yaml"), &Inputs::default());
    let summary: Vec<(&str, &str, &str)> = apps
        .iter()
        .map(|a| {
            (
                a["metadata"]["name"].as_str().unwrap(),
                a["spec"]["source"]["path"].as_str().unwrap(),
                a["spec"]["destination"]["namespace"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("api", "apps/api/overlays/production", "production"),
            ("worker", "apps/worker/overlays/production", "production")
        ]
    );
    assert_eq!(apps[0]["metadata"]["namespace"], "argocd");
    assert_eq!(apps[0]["spec"]["project"], "platform");
}

#[test]
fn the_cluster_seed_follows_the_production_label() {
    let spec = seed("applicationset-clusters.yaml");
    let mut inputs = Inputs {
        clusters: vec![
            cluster("prod-eu", "https://eu.example:6443", "production"),
            cluster("staging", "https://staging.example:6443", "staging"),
        ],
        ..Inputs::default()
    };
    let names = |inputs: &Inputs| -> Vec<String> {
        expand(&spec, inputs)
            .iter()
            .map(|a| a["metadata"]["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&inputs), ["monitoring-prod-eu"]);
    // Labelling a new cluster Secret `env: production` is all it takes.
    inputs
        .clusters
        .push(cluster("prod-us", "https://us.example:6443", "production"));
    assert_eq!(names(&inputs), ["monitoring-prod-eu", "monitoring-prod-us"]);
    let apps = expand(&spec, &inputs);
    assert_eq!(apps[1]["spec"]["destination"]["server"], "https://us.example:6443");
}

#[test]
fn the_git_directories_seed_gives_one_application_per_app_directory() {
    let revision = Revision {
        directories: ["apps", "apps/api", "apps/web", "apps/web/base", "platform"]
            .map(str::to_owned)
            .to_vec(),
        files: Vec::new(),
    };
    let key = (
        "https://github.com/myorg/k8s-manifests.git".to_owned(),
        "main".to_owned(),
    );
    let inputs = Inputs {
        revisions: [(key, Ok(revision))].into(),
        ..Inputs::default()
    };
    let apps = expand(&seed("applicationset-git-directories.yaml"), &inputs);
    let summary: Vec<(&str, &str)> = apps
        .iter()
        .map(|a| {
            (
                a["metadata"]["name"].as_str().unwrap(),
                a["spec"]["source"]["path"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(summary, [("api", "apps/api"), ("web", "apps/web")]);
}

#[test]
fn an_element_that_renders_an_invalid_name_is_named_and_go_templates_are_refused() {
    let mut spec = seed("applicationset-list.yaml");
    spec.generators[0].list.as_mut().unwrap().elements[1] =
        serde_json::json!({"service": "Worker_1", "namespace": "x"});
    let sets = parameters(&spec, &Inputs::default()).unwrap();
    let (field, params) = &sets[1];
    let error = template::render(&spec.template, params, false, "argocd", field).unwrap_err();
    assert_eq!(
        error.to_string(),
        "spec.generators[0][1]: spec.template.metadata.name: \"Worker_1\" is not a valid Application name (lower-case letters, digits, '-' and '.')"
    );
    assert!(
        template::render(&spec.template, &sets[0].1, false, "argocd", &sets[0].0).is_ok(),
        "other elements still render"
    );
    let go = template::render(&spec.template, &sets[0].1, true, "argocd", &sets[0].0).unwrap_err();
    assert!(
        go.to_string()
            .starts_with("spec.goTemplate: Go templates are not supported yet")
    );
}
