//! What every scenario runs on: a simulated cluster in this process (the API server and the
//! workload simulator, Sluice's CRDs, the `argocd` namespace), a Sluice controller as its own
//! process (this binary's `controller` command), the controller's CPU, memory and metrics, and
//! `kubectl apply --server-side` as the floor.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::{Value, json};

use crate::process::Process;

/// A scratch folder, removed when dropped.
pub struct Scratch(PathBuf);

impl Scratch {
    /// A new empty folder under the system temp dir.
    #[must_use]
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "sluice-bench-{name}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        let _ = std::fs::create_dir_all(&dir);
        Self(dir)
    }

    /// Its path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A simulated cluster in this process.
pub struct Cluster {
    /// The API server (serving while this lives).
    _sim: sim::Sim,
    /// A client of it.
    pub client: Client,
    /// Its kubeconfig and scratch files.
    pub dir: Scratch,
    workloads: tokio::task::JoinHandle<()>,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.workloads.abort();
    }
}

impl Cluster {
    /// Starts the API server and the workload simulator, installs the CRDs and `argocd`.
    ///
    /// # Panics
    /// When the simulator cannot start.
    pub async fn start() -> Self {
        sim::tls::ensure_crypto_provider();
        let sim = sim::Sim::start().await.expect("the simulator starts");
        let client = sim.client().expect("a client of the simulator");
        let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
        for crd in crds::crdgen::all() {
            crds.create(&PostParams::default(), &crd)
                .await
                .expect("the CRDs install");
        }
        let dir = Scratch::new("cluster");
        sim.write_kubeconfig(&dir.path().join("kubeconfig"))
            .expect("a kubeconfig");
        let workloads = sim::workloads::runner::spawn(client.clone());
        let cluster = Self {
            _sim: sim,
            client,
            dir,
            workloads,
        };
        cluster
            .apply(&json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "argocd"}}))
            .await;
        cluster
    }

    /// Its kubeconfig.
    #[must_use]
    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    /// Server-side applies `object` as a user would (field manager `bench`).
    ///
    /// # Panics
    /// When the kind is not served or the apply fails.
    pub async fn apply(&self, object: &Value) {
        let api = self.api(object).await;
        let name = object["metadata"]["name"].as_str().unwrap_or_default();
        api.patch(name, &PatchParams::apply("bench").force(), &Patch::Apply(object))
            .await
            .expect("the apply succeeds");
    }

    /// An API for the kind and namespace of `object`.
    ///
    /// # Panics
    /// When the kind is not served.
    pub async fn api(&self, object: &Value) -> Api<DynamicObject> {
        let api_version = object["apiVersion"].as_str().unwrap_or_default();
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let gvk = GroupVersionKind::gvk(group, version, object["kind"].as_str().unwrap_or_default());
        let (resource, caps) = kube::discovery::pinned_kind(&self.client, &gvk)
            .await
            .expect("a served kind");
        match object["metadata"]["namespace"].as_str() {
            Some(ns) if caps.scope == kube::core::discovery::Scope::Namespaced => {
                Api::namespaced_with(self.client.clone(), ns, &resource)
            }
            _ => Api::all_with(self.client.clone(), &resource),
        }
    }

    /// The Applications in `argocd` as JSON.
    pub async fn applications(&self) -> Vec<Value> {
        let probe = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": "x", "namespace": "argocd"}});
        let api = self.api(&probe).await;
        api.list(&Default::default())
            .await
            .map(|l| {
                l.items
                    .into_iter()
                    .filter_map(|a| serde_json::to_value(a).ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `kubectl apply --server-side -f FILE [-n NAMESPACE]`: seconds and API requests (counted
    /// from `-v=6`).
    ///
    /// # Panics
    /// When kubectl fails.
    #[must_use]
    pub fn kubectl_apply(&self, file: &Path, namespace: Option<&str>) -> (f64, usize) {
        let started = Instant::now();
        let namespace: Vec<&str> = namespace.map(|n| vec!["-n", n]).unwrap_or_default();
        let out = Command::new("kubectl")
            .args(["apply", "--server-side", "--field-manager", "floor", "-v=6"])
            .args(namespace)
            .arg("-f")
            .arg(file)
            .arg("--cache-dir")
            .arg(self.dir.path().join("kubectl-cache"))
            .env("KUBECONFIG", self.kubeconfig())
            .output()
            .expect("kubectl runs");
        let elapsed = started.elapsed().as_secs_f64();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let log = String::from_utf8_lossy(&out.stderr);
        let requests = log
            .lines()
            .filter(|l| l.contains(" in ") && l.contains("http") && (l.contains(" OK") || l.contains(" Created")))
            .count();
        (elapsed, requests)
    }
}

/// A Sluice controller process (this binary's `controller` command); killed when dropped.
pub struct Controller {
    process: Process,
    /// Its metrics port.
    pub port: u16,
}

impl Controller {
    /// Starts a controller for `cluster`, polling Git every `poll`.
    #[must_use]
    pub fn start(cluster: &Cluster, poll: &str) -> Self {
        Self::start_with(cluster, &["--repo-poll-interval", poll])
    }

    /// Starts a controller for `cluster` with these further flags of the `controller` command.
    ///
    /// # Panics
    /// When no port is free.
    #[must_use]
    pub fn start_with(cluster: &Cluster, extra: &[&str]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let mut args = vec![
            "controller".to_owned(),
            "--kubeconfig".to_owned(),
            cluster.kubeconfig().display().to_string(),
            "--metrics-addr".to_owned(),
            format!("127.0.0.1:{port}"),
            "--repo-cache".to_owned(),
            cluster.dir.path().join("repo-cache").display().to_string(),
        ];
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        Self {
            process: Process::spawn(&args),
            port,
        }
    }

    /// The sum of the samples of metric `name` (0 when it cannot be read).
    pub async fn metric(&self, name: &str) -> f64 {
        tests::metrics::sum(self.port, name).await
    }

    /// Waits until its endpoint answers.
    pub async fn ready(&self) {
        let url = format!("http://127.0.0.1:{}/healthz", self.port);
        let _ = until(Duration::from_secs(30), Duration::from_millis(50), || async {
            reqwest::get(&url).await.is_ok()
        })
        .await;
    }

    /// CPU seconds it used so far.
    #[must_use]
    pub fn cpu_seconds(&self) -> f64 {
        self.process.cpu_seconds()
    }

    /// Its resident memory, MiB.
    #[must_use]
    pub fn rss_mib(&self) -> f64 {
        self.process.rss_mib()
    }
}

pub use tests::wait::until;
