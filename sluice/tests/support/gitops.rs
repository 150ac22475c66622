//! A simulated cluster, a `sluice controller` process and Git servers for the GitOps tests: the
//! CRDs installed, the `argocd` namespace created, and helpers to apply Applications and wait on
//! their status.

#![allow(dead_code)] // each test file uses a part

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{DynamicObject, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::Value;

use super::SimProcess;

/// A running `sluice controller`; killed on drop.
pub struct ControllerProcess {
    child: Child,
    /// Its metrics port.
    pub port: u16,
}

impl ControllerProcess {
    /// Starts `sluice controller` against `sim` with a fast repository poll (and, unless `extra`
    /// names them, no leader election and the simulator's repository cache).
    pub fn start(sim: &SimProcess, extra: &[&str]) -> Self {
        Self::start_as(sim, &sim.kubeconfig(), None, extra)
    }

    /// [`ControllerProcess::start`] with another kubeconfig (another user), its log (stderr)
    /// written to `log` when given.
    pub fn start_as(
        sim: &SimProcess,
        kubeconfig: &std::path::Path,
        log: Option<&std::path::Path>,
        extra: &[&str],
    ) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let poll: &[&str] = if extra.contains(&"--repo-poll-interval") {
            &[]
        } else {
            &["--repo-poll-interval", "1s"]
        };
        let default = |flag: &'static str, value: String| {
            if extra.contains(&flag) {
                Vec::new()
            } else {
                vec![flag.to_owned(), value]
            }
        };
        let child = Command::new(env!("CARGO_BIN_EXE_sluice"))
            .arg("controller")
            .args(default("--leader-elect", "false".into()))
            .args(poll)
            .arg("--metrics-addr")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .args(default(
                "--repo-cache",
                sim.dir.path().join("repo-cache").display().to_string(),
            ))
            .args(extra)
            .env(
                "RUST_LOG",
                std::env::var("SLUICE_TEST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::null())
            .stderr(match log {
                Some(path) => Stdio::from(std::fs::File::create(path).unwrap()),
                None if std::env::var_os("SLUICE_TEST_LOG").is_some() => Stdio::inherit(),
                None => Stdio::null(),
            })
            .spawn()
            .unwrap();
        Self { child, port }
    }

    /// The sum of the samples of metric `name`.
    pub async fn metric(&self, name: &str) -> f64 {
        tests::metrics::sum(self.port, name).await
    }

    /// Positive evidence that `controller` (`application`, `applicationset`, ...) ran a whole
    /// reconcile that started after `trigger` (a change that wakes it): waits until one started
    /// after it and as many have finished. Absence checked after this is not a race against a slow
    /// controller.
    pub async fn reconciled_after(&self, controller: &str, trigger: impl std::future::Future<Output = ()>) {
        let started = format!("sluice_reconciles_total{{controller=\"{controller}\"}}");
        let finished = format!("sluice_reconcile_duration_seconds_count{{controller=\"{controller}\"}}");
        let before = self.metric(&started).await;
        trigger.await;
        let target = std::sync::Mutex::new(0.0);
        until(
            "a reconcile to start after the change",
            Duration::from_secs(30),
            || async {
                let now = self.metric(&started).await;
                *target.lock().unwrap() = now;
                now > before
            },
        )
        .await;
        let target = *target.lock().unwrap();
        until("that reconcile to finish", Duration::from_secs(30), || async {
            self.metric(&finished).await >= target
        })
        .await;
    }
}

impl Drop for ControllerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The simulator with Sluice's CRDs and the `argocd` namespace.
pub async fn cluster() -> (SimProcess, Client) {
    let sim = SimProcess::start();
    let client = admin(&sim).await;
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in crds::crdgen::all() {
        crds.create(&PostParams::default(), &crd).await.unwrap();
    }
    apply(
        &client,
        &serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "argocd"}}),
    )
    .await;
    (sim, client)
}

/// A client of `sim` with its kubeconfig's user (an administrator).
pub async fn admin(sim: &SimProcess) -> Client {
    let kubeconfig = kube::config::Kubeconfig::read_from(sim.kubeconfig()).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &kube::config::KubeConfigOptions::default())
        .await
        .unwrap();
    Client::try_from(config).unwrap()
}

/// Server-side applies `object` (any kind the simulator serves) as a user would.
pub async fn apply(client: &Client, object: &Value) {
    let api = dynamic(client, object).await;
    let name = object["metadata"]["name"].as_str().unwrap();
    api.patch(name, &PatchParams::apply("test").force(), &Patch::Apply(object))
        .await
        .unwrap();
}

/// An API for the kind of `object`, in its namespace.
pub async fn dynamic(client: &Client, object: &Value) -> Api<DynamicObject> {
    let api_version = object["apiVersion"].as_str().unwrap();
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let gvk = kube::api::GroupVersionKind::gvk(group, version, object["kind"].as_str().unwrap());
    let (resource, caps) = kube::discovery::pinned_kind(client, &gvk).await.unwrap();
    match object["metadata"]["namespace"].as_str() {
        Some(ns) if caps.scope == kube::core::discovery::Scope::Namespaced => {
            Api::namespaced_with(client.clone(), ns, &resource)
        }
        _ => Api::all_with(client.clone(), &resource),
    }
}

/// Reads `apiVersion`/`kind` `namespace`/`name` as JSON (`None` when absent).
pub async fn get(client: &Client, api_version: &str, kind: &str, namespace: &str, name: &str) -> Option<Value> {
    let probe = serde_json::json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "namespace": namespace}});
    let api = dynamic(client, &probe).await;
    api.get_opt(name)
        .await
        .unwrap()
        .map(|o| serde_json::to_value(o).unwrap())
}

/// The Application `name` in `argocd` as JSON.
pub async fn app(client: &Client, name: &str) -> Value {
    get(client, "argoproj.io/v1alpha1", "Application", "argocd", name)
        .await
        .unwrap_or(Value::Null)
}

/// Waits (up to `timeout`) until `check` passes on the Application; panics with its status.
pub async fn until_app(
    client: &Client,
    name: &str,
    what: &str,
    timeout: Duration,
    check: impl Fn(&Value) -> bool,
) -> Value {
    let last = std::sync::Mutex::new(Value::Null);
    let waited = tests::wait::until(timeout, Duration::from_millis(100), || async {
        let current = app(client, name).await;
        let done = check(&current);
        *last.lock().unwrap() = current;
        done
    })
    .await;
    let current = last.into_inner().unwrap();
    assert!(
        waited.is_some(),
        "timed out waiting for {what}; Application {name} is:\n{}",
        crds::yaml::to_string(&current["status"]).unwrap_or_default()
    );
    current
}

/// Positive evidence that the controller reconciled the Application `name` after this call:
/// asks for a refresh (`argocd.argoproj.io/refresh: normal`, what `argocd app get --refresh`
/// writes) and waits until the controller has removed the annotation. Absence checked after this
/// was checked after a whole reconcile, not after a sleep a slow controller could outlast.
pub async fn refreshed(client: &Client, name: &str) -> Value {
    let current = app(client, name).await;
    let apps = dynamic(client, &current).await;
    let ask = serde_json::json!({"metadata": {"annotations": {crds::keys::REFRESH_ANNOTATION: "normal"}}});
    apps.patch(name, &kube::api::PatchParams::default(), &kube::api::Patch::Merge(&ask))
        .await
        .unwrap();
    until_app(
        client,
        name,
        "the refresh to be reconciled",
        Duration::from_secs(30),
        |a| a["metadata"]["annotations"][crds::keys::REFRESH_ANNOTATION].is_null(),
    )
    .await
}

/// Waits until `check` passes, panicking with `what` at the timeout.
pub async fn until<F: std::future::Future<Output = bool>>(what: &str, timeout: Duration, check: impl FnMut() -> F) {
    let waited = tests::wait::until(timeout, Duration::from_millis(100), check).await;
    assert!(waited.is_some(), "timed out waiting for {what}");
}

/// `status.sync.status`, `status.health.status`, `status.operationState.phase`.
pub fn states(app: &Value) -> (String, String, String) {
    let s = |p: &str| app.pointer(p).and_then(Value::as_str).unwrap_or_default().to_owned();
    (
        s("/status/sync/status"),
        s("/status/health/status"),
        s("/status/operationState/phase"),
    )
}

/// The Argo CD cluster Secret `cluster-{name}` (in `argocd`) for `remote`, from its kubeconfig:
/// server, CA and an administrator's token, with `labels` beside the secret-type label.
/// Returns it and the token (which must never show in a log).
pub fn cluster_secret(remote: &SimProcess, name: &str, labels: &[(&str, &str)]) -> (Value, String) {
    let kubeconfig: Value = crds::yaml::from_str(&std::fs::read_to_string(remote.kubeconfig()).unwrap()).unwrap();
    let cluster = &kubeconfig["clusters"][0]["cluster"];
    let server = cluster["server"].as_str().unwrap().to_owned();
    let token = kubeconfig["users"][0]["user"]["token"].as_str().unwrap().to_owned();
    let config = serde_json::json!({"bearerToken": token,
        "tlsClientConfig": {"insecure": false, "caData": cluster["certificate-authority-data"]}});
    let mut all = serde_json::Map::new();
    all.insert("argocd.argoproj.io/secret-type".into(), "cluster".into());
    for (key, value) in labels {
        all.insert((*key).into(), (*value).into());
    }
    let secret = serde_json::json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": format!("cluster-{name}"), "namespace": "argocd", "labels": all},
        "stringData": {"name": name, "server": server, "config": config.to_string()}});
    (secret, token)
}
