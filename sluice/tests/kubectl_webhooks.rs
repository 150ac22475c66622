//! Real kubectl against `sluice sim` with a mutating webhook registered: objects created,
//! applied client- and server-side, and dry-run on the server come back with what the webhook
//! injected, as on a cluster with Istio's sidecar injector.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use sim::webhook::{Behaviour, WebhookServer};
use support::SimProcess;

const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: default}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: 'nginx:1'}]}\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_writes_are_mutated_by_the_webhook() {
    let injector = WebhookServer::start(Behaviour::InjectSidecar).await.unwrap();
    let sim = SimProcess::start();
    let config = format!(
        "apiVersion: admissionregistration.k8s.io/v1\nkind: MutatingWebhookConfiguration\nmetadata: {{name: istio-sidecar-injector}}\nwebhooks:\n- name: sidecar-injector.istio.io\n  clientConfig: {{url: '{}', caBundle: {}}}\n  rules: [{{operations: [CREATE, UPDATE], apiGroups: [apps], apiVersions: [v1], resources: [deployments]}}]\n  sideEffects: None\n  admissionReviewVersions: [v1]\n",
        injector.url("/inject"),
        injector.ca_bundle()
    );
    sim.kubectl_ok(&["apply", "-f", "-"], Some(&config));
    let status = |sim: &SimProcess| {
        sim.kubectl_ok(
            &[
                "get",
                "deployment",
                "web",
                "-o",
                "jsonpath={.metadata.annotations.sidecar\\.istio\\.io/status}",
            ],
            None,
        )
    };
    let dry = sim.kubectl_ok(
        &["create", "--dry-run=server", "-o", "yaml", "-f", "-"],
        Some(DEPLOYMENT),
    );
    assert!(dry.contains("istio-init"), "{dry}");
    assert!(
        sim.kubectl(&["get", "deployment", "web"], None).status.code() != Some(0),
        "a dry run stores nothing"
    );
    sim.kubectl_ok(&["create", "-f", "-"], Some(DEPLOYMENT));
    let created = status(&sim);
    assert!(created.contains("\"revision\":2"), "{created}");
    let init = sim.kubectl_ok(
        &[
            "get",
            "deployment",
            "web",
            "-o",
            "jsonpath={.spec.template.spec.initContainers[*].name}",
        ],
        None,
    );
    assert_eq!(init, "istio-init");
    sim.kubectl_ok(
        &["apply", "--server-side", "--force-conflicts", "-f", "-"],
        Some(DEPLOYMENT),
    );
    let applied = status(&sim);
    assert_ne!(applied, created, "each admission writes a new value");
    sim.kubectl_ok(&["scale", "deployment", "web", "--replicas=2"], None);
    // `deployments` does not cover the `deployments/scale` subresource: the webhook is not asked.
    assert_eq!(status(&sim), applied);
    let operations: Vec<String> = injector
        .reviews()
        .iter()
        .map(|r| format!("{} dryRun={}", r["operation"].as_str().unwrap(), r["dryRun"]))
        .collect();
    assert_eq!(
        operations,
        ["CREATE dryRun=true", "CREATE dryRun=false", "UPDATE dryRun=false"]
    );
}
