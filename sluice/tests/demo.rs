//! `sluice demo` run as a process, as the README's main command runs it (here with the web
//! provider, so it needs nothing installed).

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
        "॥ Paused - CanaryPauseStep | step 1/6 | weight 20",
        "✖ Degraded - RolloutAborted: Rollout aborted update to revision 3: Metric \"success-rate\" assessed Failed",
        "1. first deploy (registry.example/api:1.0.0), straight to 100%: Healthy after",
        "2. good update (registry.example/api:1.1.0)",
        "3. bad update (registry.example/api:1.2.0-bad): aborted after",
        "4. template back to registry.example/api:1.1.0",
        ": Successful, measured 0.97, 0.97, 0.97",
        ": Failed, measured 0.8",
        "demo --keep",
    ] {
        assert!(stdout.contains(expected), "missing {expected:?} in:\n{stdout}");
    }
}
