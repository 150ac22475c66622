//! Commands that need no cluster: version and shell completion.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

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
