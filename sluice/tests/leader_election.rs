//! Two `sluice controller` processes against one simulated cluster: only the Lease holder acts, and
//! when it dies the other takes over and finishes the work.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crds::Rollout;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::json;

/// A controller process, killed when dropped.
struct Replica {
    child: Child,
    port: u16,
}

impl Replica {
    fn start(kubeconfig: &std::path::Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_sluice"))
            .args(["controller", "--lease-duration", "3", "--metrics-addr"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Self { child, port }
    }

    /// `/readyz`: 200 for the leader, 503 for a standby, `None` while not listening.
    async fn ready(&self) -> Option<bool> {
        let url = format!("http://127.0.0.1:{}/readyz", self.port);
        let response = reqwest::get(&url).await.ok()?;
        Some(response.status().is_success())
    }

    /// The `sluice_rollout_writes_total` counter.
    async fn writes(&self) -> u64 {
        let url = format!("http://127.0.0.1:{}/metrics", self.port);
        let text = reqwest::get(&url).await.unwrap().text().await.unwrap();
        text.lines()
            .find(|l| l.starts_with("sluice_rollout_writes_total"))
            .and_then(|l| l.split_whitespace().last())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn until<F: std::future::Future<Output = bool>>(what: &str, timeout: Duration, check: impl FnMut() -> F) {
    let waited = tests::wait::until(timeout, Duration::from_millis(100), check).await;
    assert!(waited.is_some(), "timed out waiting for {what}");
}

const ROLLOUT: &str = r#"{
  "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
  "metadata": {"name": "web", "namespace": "default"},
  "spec": {
    "replicas": 2,
    "selector": {"matchLabels": {"app": "web"}},
    "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "web:1"}]}},
    "strategy": {"canary": {"steps": [{"setWeight": 50}, {"pause": {}}]}}
  }
}"#;

async fn phase(api: &Api<Rollout>) -> Option<String> {
    let rollout = api.get("web").await.ok()?;
    rollout.status?.phase.map(|p| format!("{p:?}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_lease_holder_acts_and_the_standby_takes_over() {
    sim::tls::ensure_crypto_provider();
    let sim = sim::Sim::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kubeconfig).unwrap();
    let client = sim.client().unwrap();
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in crds::crdgen::all() {
        crds.create(&PostParams::default(), &crd).await.unwrap();
    }
    let workloads = sim::workloads::runner::spawn(client.clone());

    let first = Replica::start(&kubeconfig);
    until("the first replica to lead", Duration::from_secs(20), || async {
        first.ready().await == Some(true)
    })
    .await;
    let mut second = Replica::start(&kubeconfig);
    until("the second replica to serve", Duration::from_secs(20), || async {
        second.ready().await.is_some()
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        second.ready().await,
        Some(false),
        "a standby must not lead beside the leader"
    );

    let rollouts: Api<Rollout> = Api::namespaced(client.clone(), "default");
    rollouts
        .create(&PostParams::default(), &serde_json::from_str(ROLLOUT).unwrap())
        .await
        .unwrap();
    until("the rollout to be Healthy", Duration::from_secs(30), || async {
        phase(&rollouts).await.as_deref() == Some("Healthy")
    })
    .await;
    assert!(first.writes().await > 0);
    assert_eq!(second.writes().await, 0, "the standby wrote to the API");

    // The leader dies without releasing the Lease: the standby takes over once it expires.
    drop(first);
    until("the standby to take the lease", Duration::from_secs(20), || async {
        second.ready().await == Some(true)
    })
    .await;
    let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "web:2"}]}}}});
    rollouts
        .patch("web", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    until("the new leader to reach the pause", Duration::from_secs(30), || async {
        phase(&rollouts).await.as_deref() == Some("Paused")
    })
    .await;
    assert!(second.writes().await > 0);
    let _ = second.child.kill();
    workloads.abort();
}
