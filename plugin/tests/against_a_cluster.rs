//! `kubectl-sluice` run as a process against a simulated cluster with the Rollout and AnalysisRun
//! controllers running (in this test's process, over HTTP): every command that changes a Rollout,
//! `status` exit codes, error lines, `get -w` and `list -w` redrawing as a process's output, and
//! real `kubectl` finding the plugin on PATH.

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

/// A `kubectl-sluice ... -w` process whose output is read as it comes; killed on drop.
struct Watching {
    child: std::process::Child,
    output: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Watching {
    fn start(env: &Env, args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kubectl-sluice"))
            .arg("--kubeconfig")
            .arg(env.dir.path().join("kubeconfig"))
            .args(args)
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let output = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sink = output.clone();
        std::thread::spawn(move || {
            let mut buf = [0_u8; 4096];
            while let Ok(n) = std::io::Read::read(&mut stdout, &mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Self { child, output }
    }

    /// Waits until the output printed after byte `from` contains `text`; returns where it ends.
    async fn until(&self, from: usize, text: &str) -> usize {
        let deadline = crds::clock::stopwatch() + WAIT;
        loop {
            {
                let out = self.output.lock().unwrap();
                if let Some(at) = out.get(from..).and_then(|o| o.find(text)) {
                    return from + at + text.len();
                }
                assert!(
                    crds::clock::stopwatch() < deadline,
                    "{text:?} never printed; got:\n{}",
                    out.get(from..).unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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

/// The rest of the README's Rollout commands, as a process: `get -w` and `list -w` redrawing after
/// a change, `promote --full`, `pause`, `restart`, `create analysisrun`, `terminate analysisrun`.
#[tokio::test(flavor = "multi_thread")]
async fn watches_redraw_and_the_remaining_commands_do_what_they_say() {
    let env = Env::start().await;
    let basic = env.probe();
    let tree = Watching::start(&env, &["get", "rollout", "basic", "-w"]);
    let list = Watching::start(&env, &["list", "rollouts", "-w"]);
    let drawn = tree.until(0, "Healthy").await;
    let listed = list.until(0, "basic  Canary    Healthy").await;
    let (code, _, _) = text(&env.sluice(&["set", "image", "basic", "basic=nginx:1.20-alpine"]).await);
    assert_eq!(code, 0);
    let drawn = tree.until(drawn, "nginx:1.20-alpine (canary)").await;
    tree.until(drawn, "Paused").await;
    let listed = list.until(listed, "Paused").await;

    let (code, out, _) = text(&env.sluice(&["promote", "basic", "--full"]).await);
    assert_eq!((code, out.as_str()), (0, "rollout 'basic' fully promoted\n"));
    list.until(listed, "basic  Canary    Healthy").await;
    basic
        .wait("the new version stable", WAIT, |r, _| {
            r.status.as_ref().and_then(|s| s.stable_rs.clone())
                == r.status.as_ref().and_then(|s| s.current_pod_hash.clone())
        })
        .await;
    drop((tree, list));

    let (code, out, _) = text(&env.sluice(&["pause", "basic"]).await);
    assert_eq!((code, out.as_str()), (0, "rollout 'basic' paused\n"));
    assert_eq!(basic.get().await.spec.paused, Some(true));
    basic.patch(serde_json::json!({"spec": {"paused": false}})).await;

    let (code, out, _) = text(&env.sluice(&["restart", "basic"]).await);
    assert_eq!(code, 0);
    assert!(out.starts_with("rollout 'basic' restarts at "), "{out}");
    let asked = basic.get().await.spec.restart_at.clone().unwrap();
    basic
        .wait("the restart done", WAIT, |r, _| {
            r.status.as_ref().and_then(|s| s.restarted_at.clone()).as_ref() == Some(&asked)
        })
        .await;

    let template = "apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata:\n  name: slow\nspec:\n  args:\n  - name: service\n  metrics:\n  - name: check\n    provider:\n      job:\n        spec:\n          backoffLimit: 0\n          template:\n            metadata:\n              annotations: {sim.sluice.dev/start-delay: 1h}\n            spec:\n              restartPolicy: Never\n              containers:\n              - name: c\n                image: 'check:{{args.service}}'\n";
    env.cluster.apply(template, "default").await;
    let (code, out, err) = text(
        &env.sluice(&[
            "create",
            "analysisrun",
            "--from",
            "slow",
            "-a",
            "service=api",
            "--name",
            "by-hand",
        ])
        .await,
    );
    assert_eq!((code, out.as_str()), (0, "analysisrun 'by-hand' created\n"), "{err}");
    let runs: kube::Api<crds::AnalysisRun> = kube::Api::namespaced(env.cluster.client.clone(), "default");
    let run = runs.get("by-hand").await.unwrap();
    assert_eq!(run.spec.args[0].value.as_deref(), Some("api"));
    let (code, out, _) = text(&env.sluice(&["terminate", "analysisrun", "by-hand"]).await);
    assert_eq!((code, out.as_str()), (0, "analysisrun 'by-hand' terminated\n"));
    let done = env.cluster.completed_run("default", "by-hand", WAIT).await;
    assert_eq!(
        done.status.as_ref().and_then(|s| s.message.as_deref()),
        Some("Run Terminated")
    );
}
