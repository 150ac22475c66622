//! Commands that need no cluster: version, shell completion, and health from files or stdin.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

fn run(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-sluice"))
        .args(args)
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8(out.stdout).unwrap())
}

#[test]
fn version_and_completion_scripts() {
    let (ok, out) = run(&["version"]);
    assert!(ok);
    assert_eq!(out, format!("kubectl-sluice {}\n", env!("CARGO_PKG_VERSION")));
    for shell in ["bash", "zsh", "fish"] {
        let (ok, out) = run(&["completion", shell]);
        assert!(ok, "{shell}");
        for word in ["promote", "abort", "rollout"] {
            assert!(out.contains(word), "{shell} completion lacks {word}");
        }
    }
}

fn health_of(stdin: &str) -> (bool, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kubectl-sluice"))
        .args(["health", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.success(), String::from_utf8(out.stdout).unwrap())
}

#[test]
fn health_reads_objects_and_says_what_argo_would() {
    let vectors = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors/health/argoproj.io/Rollout");
    let aborted = std::fs::read_to_string(vectors.join("degraded_abortedRollout.yaml")).unwrap();
    assert_eq!(
        health_of(&aborted),
        (true, "Degraded - Rollout is aborted\n".to_owned())
    );
    let two = format!("{aborted}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings}}\n");
    let (ok, out) = health_of(&two);
    assert!(ok);
    let name = out.lines().next().unwrap().split(':').next().unwrap().to_owned();
    assert_eq!(
        out,
        format!("{name}: Degraded - Rollout is aborted\nConfigMap/settings: none - no health check for /ConfigMap\n")
    );
    assert!(name.starts_with("Rollout/"), "{out}");
    let (ok, _) = run(&["health", "-f", "/nonexistent/file.yaml"]);
    assert!(!ok, "a missing file fails");
}
