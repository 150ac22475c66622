//! `kubectl-sluice` run as a process against a simulated cluster with the Rollout and AnalysisRun
//! controllers running (in this test's process, over HTTP): every command that changes a Rollout,
//! `status` exit codes, error lines, and real `kubectl` finding the plugin on PATH.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use crds::rollout::RolloutPhase;
use tests::cluster::Cluster;
use tests::rollouts::{Probe, step_of};

const WAIT: Duration = Duration::from_secs(60);

struct Env {
    cluster: Cluster,
    dir: tempfile::TempDir,
}

impl Env {
    async fn start() -> Self {
        let cluster = Cluster::start(None).await;
        let dir = tempfile::tempdir().unwrap();
        cluster.sim.write_kubeconfig(&dir.path().join("kubeconfig")).unwrap();
        let basic = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance/argo-rollouts/rollout-basic.yaml"),
        )
        .unwrap();
        cluster.apply(&basic, "default").await;
        Probe::new(&cluster.client, "default", "basic")
            .wait_phase(RolloutPhase::Healthy, WAIT)
            .await;
        Self { cluster, dir }
    }

    fn probe(&self) -> Probe {
        Probe::new(&self.cluster.client, "default", "basic")
    }

    /// Runs `kubectl-sluice ARGS` (off the async runtime's threads).
    async fn sluice(&self, args: &[&str]) -> Output {
        let kubeconfig = self.dir.path().join("kubeconfig");
        let args: Vec<String> = args.iter().map(ToString::to_string).collect();
        tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_kubectl-sluice"))
                .arg("--kubeconfig")
                .arg(kubeconfig)
                .args(args)
                .output()
                .unwrap()
        })
        .await
        .unwrap()
    }
}

fn text(out: &Output) -> (i32, String, String) {
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn promote_abort_retry_and_undo_drive_the_rollout() {
    let env = Env::start().await;
    let basic = env.probe();
    let (code, out, _) = text(&env.sluice(&["set", "image", "basic", "basic=nginx:1.20-alpine"]).await);
    assert_eq!((code, out.as_str()), (0, "rollout 'basic' image updated\n"));
    basic.wait_phase(RolloutPhase::Paused, WAIT).await;

    // The live view shows the pause and both versions.
    let (code, out, _) = text(&env.sluice(&["get", "rollout", "basic"]).await);
    assert_eq!(code, 0);
    assert!(out.contains("Status:          ॥ Paused"), "{out}");
    assert!(out.contains("nginx:1.20-alpine (canary)"), "{out}");
    assert!(!out.contains('\x1b'), "no colour when not on a terminal");

    // abort: Degraded, canary scaled away.
    let (code, out, _) = text(&env.sluice(&["abort", "basic"]).await);
    assert_eq!((code, out.as_str()), (0, "rollout 'basic' aborted\n"));
    basic.wait_phase(RolloutPhase::Degraded, WAIT).await;
    basic
        .wait("the canary scaled to 0", WAIT, |_, sets| {
            sets.iter().any(|s| s.image == "nginx:1.20-alpine" && s.spec == 0)
        })
        .await;
    let (code, _, err) = text(&env.sluice(&["abort", "basic"]).await);
    assert_eq!((code, err.as_str()), (1, "error: rollout 'basic' is already aborted\n"));
    let (code, _, err) = text(&env.sluice(&["status", "basic"]).await);
    assert_eq!(code, 1, "status of a Degraded rollout fails");
    assert!(
        err.starts_with("error: rollout 'basic' is Degraded: RolloutAborted: Rollout aborted update to revision 2"),
        "{err}"
    );

    // retry: the steps start over.
    let (code, out, _) = text(&env.sluice(&["retry", "rollout", "basic"]).await);
    assert_eq!((code, out.as_str()), (0, "rollout 'basic' retried\n"));
    let again = basic.wait_phase(RolloutPhase::Paused, WAIT).await;
    assert_eq!(step_of(&again), Some(1));
    let (code, out, _) = text(&env.sluice(&["status", "basic", "-t", "1s"]).await);
    assert_eq!(code, 1, "a paused rollout times out: {out}");

    // promote: on to Healthy, then status exits 0.
    let (code, out, _) = text(&env.sluice(&["promote", "basic"]).await);
    assert_eq!((code, out.as_str()), (0, "rollout 'basic' promoted\n"));
    let (code, out, _) = text(&env.sluice(&["status", "basic", "-t", "60s"]).await);
    assert_eq!(code, 0, "{out}");
    assert!(out.ends_with("Healthy\n"), "{out}");
    let (code, _, err) = text(&env.sluice(&["promote", "basic"]).await);
    assert_eq!(code, 1);
    assert!(err.contains("has nothing to promote"), "{err}");

    // undo: back to the previous revision's template (fast-tracked).
    let (code, out, _) = text(&env.sluice(&["undo", "basic"]).await);
    assert_eq!((code, out.as_str()), (0, "rollout 'basic' rolled back to revision 1\n"));
    basic
        .wait("the first image back", WAIT, |r, sets| {
            r.spec.template.as_ref().unwrap().spec.as_ref().unwrap().containers[0]
                .image
                .as_deref()
                == Some("nginx:1.19-alpine")
                && sets.iter().any(|s| s.image == "nginx:1.19-alpine" && s.available == 1)
        })
        .await;

    // -o json for scripts.
    let (code, out, _) = text(&env.sluice(&["get", "rollout", "basic", "-o", "json"]).await);
    assert_eq!(code, 0);
    let parsed: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(parsed["metadata"]["name"], "basic");
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_are_one_clear_line() {
    let env = Env::start().await;
    let (code, _, err) = text(&env.sluice(&["promote", "nope"]).await);
    assert_eq!(
        (code, err.as_str()),
        (1, "error: rollout 'nope' not found in namespace 'default'\n")
    );
    let (code, _, err) = text(&env.sluice(&["set", "image", "basic", "web=x:1"]).await);
    assert_eq!(
        (code, err.as_str()),
        (1, "error: rollout 'basic' has no container 'web' (it has: basic)\n")
    );
    let unreachable = env.dir.path().join("unreachable");
    std::fs::write(
        &unreachable,
        "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'http://127.0.0.1:9'}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\nusers: [{name: u, user: {}}]\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-sluice"))
        .arg("--kubeconfig")
        .arg(&unreachable)
        .args(["list", "rollouts"])
        .output()
        .unwrap();
    let (code, _, err) = text(&out);
    assert_eq!(code, 1);
    assert!(err.starts_with("error: no cluster reachable: "), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_finds_the_plugin_on_path() {
    let env = Env::start().await;
    let bin = Path::new(env!("CARGO_BIN_EXE_kubectl-sluice"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let kubeconfig = env.dir.path().join("kubeconfig");
    let out = tokio::task::spawn_blocking(move || {
        Command::new("kubectl")
            .args(["sluice", "list", "rollouts"])
            .env("PATH", path)
            .env("KUBECONFIG", kubeconfig)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let (code, out, err) = text(&out);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("NAME "), "{out}");
    assert!(out.contains("basic  Canary    Healthy"), "{out}");
}
