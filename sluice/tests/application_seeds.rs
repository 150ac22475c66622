//! The founding documents' Application and AppProject manifests (`../shared/conformance/seeds/`),
//! applied unchanged and behaving as written. Their `https://github.com/...` repositories are
//! served by `git daemon` on loopback through `--repo-url-rewrite` (git's `insteadOf`), so the
//! project rules still see the URLs as written.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use serde_json::Value;
use sim::webhook::{Behaviour, WebhookServer};
use support::gitops::{ControllerProcess, app, apply, cluster, get, states, until_app};
use tests::git::{GitDaemon, GitRepo};

fn seed(name: &str) -> Value {
    let path = format!("{}/../../shared/conformance/seeds/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    crds::yaml::from_str(&text).unwrap()
}

const BASE_DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api-service\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: api-service}\n  template:\n    metadata:\n      labels: {app: api-service}\n      annotations: {sim.sluice.dev/start-delay: 100ms}\n    spec:\n      containers:\n      - name: api\n        image: myorg/api-service:1.0\n";
const BASE_SERVICE: &str = "apiVersion: v1\nkind: Service\nmetadata:\n  name: api-service\nspec:\n  selector: {app: api-service}\n  ports: [{port: 80}]\n";
const PRODUCTION: &str = "resources: [../../base]\npatches:\n- target: {kind: Deployment, name: api-service}\n  patch: |\n    - op: replace\n      path: /spec/replicas\n      value: 3\n";
const QUOTA: &str = "apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: quota\nspec:\n  hard: {pods: \"10\"}\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_platform_project_and_the_api_service_overlay_behave_as_written() {
    let (sim, client) = cluster().await;
    let served = sim.dir.path().join("git");
    std::fs::create_dir_all(&served).unwrap();
    let repo = GitRepo::create(&served, "k8s-config");
    repo.commit(
        &[
            (
                "apps/api-service/base/kustomization.yaml",
                "resources: [deployment.yaml, service.yaml]\n",
            ),
            ("apps/api-service/base/deployment.yaml", BASE_DEPLOYMENT),
            ("apps/api-service/base/service.yaml", BASE_SERVICE),
            ("apps/api-service/overlays/production/kustomization.yaml", PRODUCTION),
            (
                "apps/api-service/overlays/staging/kustomization.yaml",
                "resources: [../../base]\n",
            ),
        ],
        "api-service base and overlays",
    );
    let daemon = GitDaemon::start(&served);
    let rewrite = format!("https://github.com/myorg/={}", daemon.url("").trim_end_matches(".git"));
    let _controller = ControllerProcess::start(&sim, &["--repo-url-rewrite", &rewrite]);
    apply(&client, &seed("appproject-platform.yaml")).await;
    apply(&client, &seed("application-api-service.yaml")).await;

    let synced = until_app(
        &client,
        "api-service",
        "the overlay to sync",
        Duration::from_secs(60),
        |a| states(a) == ("Synced".into(), "Healthy".into(), "Succeeded".into()),
    )
    .await;
    assert_eq!(synced["status"]["sourceType"], "Kustomize");
    assert!(
        get(&client, "v1", "Namespace", "", "production").await.is_some(),
        "CreateNamespace=true"
    );
    let deployment = get(&client, "apps/v1", "Deployment", "production", "api-service")
        .await
        .unwrap();
    assert_eq!(deployment["spec"]["replicas"], 3, "the production overlay's patch");
    assert!(
        get(&client, "v1", "Service", "production", "api-service")
            .await
            .is_some()
    );

    // A ResourceQuota is blacklisted by the project: the commit is refused whole.
    let changed = BASE_DEPLOYMENT.replace("myorg/api-service:1.0", "myorg/api-service:2.0");
    repo.commit(
        &[
            (
                "apps/api-service/base/kustomization.yaml",
                "resources: [deployment.yaml, service.yaml, quota.yaml]\n",
            ),
            ("apps/api-service/base/quota.yaml", QUOTA),
            ("apps/api-service/base/deployment.yaml", &changed),
        ],
        "a quota the project forbids",
    );
    let refused = until_app(
        &client,
        "api-service",
        "the project violation",
        Duration::from_secs(30),
        |a| {
            a["status"]["conditions"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c["type"] == "InvalidSpecError"))
        },
    )
    .await;
    let condition = refused["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "InvalidSpecError")
        .unwrap()
        .clone();
    assert_eq!(
        condition["message"],
        "resource :ResourceQuota is not permitted in project platform (spec.*ResourceWhitelist/Blacklist)"
    );
    support::gitops::refreshed(&client, "api-service").await;
    let deployment = get(&client, "apps/v1", "Deployment", "production", "api-service")
        .await
        .unwrap();
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["image"], "myorg/api-service:1.0",
        "nothing of that commit is applied"
    );
    assert!(
        get(&client, "v1", "Service", "production", "api-service")
            .await
            .is_some(),
        "nothing is pruned"
    );
}

const GUESTBOOK_DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: guestbook-ui\nspec:\n  replicas: 1\n  revisionHistoryLimit: 3\n  selector:\n    matchLabels: {app: guestbook-ui}\n  template:\n    metadata:\n      labels: {app: guestbook-ui}\n      annotations: {sim.sluice.dev/start-delay: 100ms}\n    spec:\n      containers:\n      - image: guestbook:0.2\n        name: guestbook-ui\n        ports: [{containerPort: 80}]\n";
const GUESTBOOK_SERVICE: &str = "apiVersion: v1\nkind: Service\nmetadata:\n  name: guestbook-ui\nspec:\n  ports: [{port: 80, targetPort: 80}]\n  selector: {app: guestbook-ui}\n";

/// How many sync operations the Application has started (history entries plus a running one).
fn syncs(app: &Value) -> usize {
    app["status"]["history"].as_array().map_or(0, Vec::len)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guestbook_ignore_differences_ends_the_sidecar_mutation_loop() {
    let injector = WebhookServer::start(Behaviour::InjectSidecar).await.unwrap();
    let (sim, client) = cluster().await;
    let webhook = format!(
        "apiVersion: admissionregistration.k8s.io/v1\nkind: MutatingWebhookConfiguration\nmetadata: {{name: istio-sidecar-injector}}\nwebhooks:\n- name: sidecar-injector.istio.io\n  clientConfig: {{url: '{}', caBundle: {}}}\n  rules: [{{operations: [CREATE, UPDATE], apiGroups: [apps], apiVersions: [v1], resources: [deployments]}}]\n  sideEffects: None\n  admissionReviewVersions: [v1]\n",
        injector.url("/inject"),
        injector.ca_bundle()
    );
    sim.kubectl_ok(&["apply", "-f", "-"], Some(&webhook));
    let served = sim.dir.path().join("git");
    std::fs::create_dir_all(&served).unwrap();
    let repo = GitRepo::create(&served, "argocd-example-apps");
    repo.commit(
        &[
            ("guestbook/guestbook-ui-deployment.yaml", GUESTBOOK_DEPLOYMENT),
            ("guestbook/guestbook-ui-svc.yaml", GUESTBOOK_SERVICE),
        ],
        "guestbook",
    );
    let daemon = GitDaemon::start(&served);
    let rewrite = format!(
        "https://github.com/argoproj/={}",
        daemon.url("").trim_end_matches(".git")
    );
    let _controller = ControllerProcess::start(&sim, &["--repo-url-rewrite", &rewrite]);
    let guestbook = seed("application-guestbook-ignore-differences.yaml");
    let mut looping = guestbook.clone();
    looping["metadata"]["name"] = "guestbook-without-rule".into();
    looping["spec"]["destination"]["namespace"] = "guestbook-2".into();
    looping["spec"]["ignoreDifferences"] = Value::Array(Vec::new());
    looping["spec"]["syncPolicy"]["syncOptions"] = serde_json::json!(["CreateNamespace=true"]);
    let mut with_rule = guestbook;
    with_rule["spec"]["syncPolicy"]["syncOptions"] = serde_json::json!(["CreateNamespace=true"]);
    apply(&client, &with_rule).await;
    apply(&client, &looping).await;

    until_app(
        &client,
        "guestbook",
        "the guestbook to sync",
        Duration::from_secs(60),
        |a| states(a) == ("Synced".into(), "Healthy".into(), "Succeeded".into()),
    )
    .await;
    let live = get(&client, "apps/v1", "Deployment", "guestbook", "guestbook-ui")
        .await
        .unwrap();
    assert!(
        live["metadata"]["annotations"]["sidecar.istio.io/status"].is_string(),
        "the webhook injected"
    );
    // The positive control first: without the rule, the injected annotation is drift and is
    // re-synced. In that same window the Application with the rule stays at its one sync.
    until_app(
        &client,
        "guestbook-without-rule",
        "the loop without the rule",
        Duration::from_secs(60),
        |a| syncs(a) >= 2,
    )
    .await;
    let settled = app(&client, "guestbook").await;
    assert_eq!(
        states(&settled).0,
        "Synced",
        "the ignored annotation is not a difference"
    );
    assert_eq!(syncs(&settled), 1, "one sync, no self-heal loop");
    drop(daemon);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_root_app_of_apps_manages_the_application_manifests_in_git() {
    let (sim, client) = cluster().await;
    let served = sim.dir.path().join("git");
    std::fs::create_dir_all(&served).unwrap();
    let repo = GitRepo::create(&served, "k8s-config");
    let child = |name: &str| {
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {name}\n  namespace: argocd\n  finalizers: [resources-finalizer.argocd.argoproj.io]\nspec:\n  project: default\n  source:\n    repoURL: https://github.com/myorg/k8s-config\n    targetRevision: main\n    path: apps/{name}\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: {name}\n  syncPolicy:\n    automated: {{prune: true}}\n    syncOptions: [CreateNamespace=true]\n"
        )
    };
    repo.commit(
        &[
            ("apps/applications/web.yaml", &child("web")),
            ("apps/applications/worker.yaml", &child("worker")),
            (
                "apps/web/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\n",
            ),
            (
                "apps/worker/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: worker}\n",
            ),
        ],
        "two services",
    );
    let daemon = GitDaemon::start(&served);
    let rewrite = format!("https://github.com/myorg/={}", daemon.url("").trim_end_matches(".git"));
    let _controller = ControllerProcess::start(&sim, &["--repo-url-rewrite", &rewrite]);
    apply(&client, &seed("root-app.yaml")).await;
    for name in ["root", "web", "worker"] {
        until_app(&client, name, "Synced and Healthy", Duration::from_secs(60), |a| {
            states(a) == ("Synced".into(), "Healthy".into(), "Succeeded".into())
        })
        .await;
    }
    assert!(get(&client, "v1", "ConfigMap", "worker", "worker").await.is_some());
    // The children count towards the root's health, each by its own.
    let root = app(&client, "root").await;
    let children: Vec<(&str, &str)> = root["status"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap(),
                r["health"]["status"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(children, [("web", "Healthy"), ("worker", "Healthy")]);
    // Deleting a child's manifest prunes the child Application and, through its finalizer,
    // its resources.
    repo.commit(&[("apps/applications/worker.yaml", "")], "retire the worker");
    tests::wait::until_state(
        "the worker Application to be pruned",
        Duration::from_secs(30),
        Duration::from_millis(100),
        || app(&client, "worker"),
        Value::is_null,
    )
    .await;
    assert!(
        get(&client, "v1", "ConfigMap", "worker", "worker").await.is_none(),
        "the child's resources go with it"
    );
    assert!(get(&client, "v1", "ConfigMap", "web", "web").await.is_some());
}
