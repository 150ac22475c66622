//! `sluice demo` run as a process, as the README's main command runs it: the founding canary
//! declared in Git, a good commit, a bad one reverted in Git by Sluice, and the summary (with the
//! web provider, so it needs nothing installed; and with a real Prometheus).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

#[test]
fn the_demo_takes_a_good_and_a_bad_version_through_and_summarises() {
    let out = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["demo", "--no-prometheus"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("no `prometheus` on PATH, so the web provider"),
        "{stdout}"
    );
    for expected in [
        "git commit ",
        "Application api: Synced, Healthy at ",
        "॥ Paused - CanaryPauseStep | step 1/6 | weight 20",
        "✖ Degraded - RolloutAborted: Rollout aborted update to revision 3: Metric \"success-rate\" assessed Failed",
        "Sluice pushed: ",
        " Revert \"api 1.2.0\"",
        "    Sluice-Revert-Of: ",
        "    Sluice-Application: argocd/api",
        "(registry.example/api:1.0.0): synced after",
        "(registry.example/api:1.1.0): synced after",
        "(registry.example/api:1.2.0-bad): synced, canary aborted after",
        "Sluice reverted it in Git ",
        "the revert synced, Healthy on registry.example/api:1.1.0",
        ": Successful, measured 0.97, 0.97, 0.97",
        ": Failed, measured 0.8",
        "demo --keep",
    ] {
        assert!(stdout.contains(expected), "missing {expected:?} in:\n{stdout}");
    }
    // The revert is the Application's last synced revision, and the Git folder is cleaned up.
    let revert = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Sluice pushed: "))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_default()
        .to_owned();
    assert!(
        stdout.contains(&format!(
            "Application api: Synced, Healthy at {revert} (last sync Succeeded)"
        )),
        "{stdout}"
    );
    let folder = stdout
        .split("a Git repository at file://")
        .nth(1)
        .and_then(|r| r.split("/git/api.git").next())
        .unwrap_or_default();
    assert!(
        !folder.is_empty() && !std::path::Path::new(folder).exists(),
        "{folder} left behind"
    );
}

/// The README's main command as written: with Debian's `prometheus` installed (the test command
/// installs it), the demo's analysis runs `examples/demo/success-rate-prometheus.yaml` against a
/// real Prometheus fed by the simulated pods.
#[test]
fn the_demo_with_a_real_prometheus_judges_the_same_versions() {
    let out = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .arg("demo")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("Analysis: a real Prometheus at http://127.0.0.1:"),
        "{stdout}"
    );
    for expected in [
        "✖ Degraded - RolloutAborted: Rollout aborted update to revision 3: Metric \"success-rate\" assessed Failed",
        "(registry.example/api:1.1.0): synced after",
        "(registry.example/api:1.2.0-bad): synced, canary aborted after",
        " Revert \"api 1.2.0\"",
    ] {
        assert!(stdout.contains(expected), "missing {expected:?} in:\n{stdout}");
    }
    // Prometheus answers vectors with floating-point sums ([0.9699999999999999]): read the values.
    let measured = |verdict: &str| -> Vec<f64> {
        let line = stdout
            .lines()
            .find(|l| l.contains(&format!(": {verdict}, measured ")))
            .unwrap_or_default();
        line.split(['[', ']']).filter_map(|v| v.trim().parse().ok()).collect()
    };
    let good = measured("Successful");
    let bad = measured("Failed");
    assert!(
        !good.is_empty() && good.iter().all(|v| (v - 0.97).abs() < 0.005),
        "{good:?}\n{stdout}"
    );
    assert!(
        !bad.is_empty() && bad.iter().all(|v| (v - 0.80).abs() < 0.005),
        "{bad:?}\n{stdout}"
    );
}
