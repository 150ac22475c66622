//! The decision's table: completed runs and their TTL, runs that cannot compile, due measurements.
use analysis::args::ResolvedArgs;

use super::*;

fn run(status: serde_json::Value, ttl: Option<i32>) -> AnalysisRun {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisRun",
        "metadata": {"name": "r", "namespace": "default"},
        "spec": {"metrics": [], "ttlStrategy": ttl.map(|s| serde_json::json!({"secondsAfterCompletion": s}))},
        "status": status
    }))
    .unwrap()
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

#[test]
fn a_completed_run_waits_for_its_ttl_then_is_deleted() {
    let done = run(
        serde_json::json!({"phase": "Successful", "completedAt": "2026-01-01T00:00:00Z"}),
        Some(60),
    );
    let wake = at("2026-01-01T00:01:00Z");
    assert!(matches!(
        decide(&done, None, at("2026-01-01T00:00:30Z")),
        Decision::Completed { delete: false, wake_at: Some(w) } if w == wake
    ));
    assert!(matches!(
        decide(&done, None, wake),
        Decision::Completed {
            delete: true,
            wake_at: None
        }
    ));
}

#[test]
fn a_run_that_cannot_compile_ends_in_error_with_its_secrets_masked() {
    let mut args = ResolvedArgs::default();
    args.secrets.push("hunter2".into());
    let started = StartedRun {
        compiled: Err("bad token hunter2".into()),
        args,
    };
    let pending = run(serde_json::json!({}), None);
    let Decision::Fail { status, event } = decide(&pending, Some(&started), at("2026-01-01T00:00:00Z")) else {
        panic!("expected Fail");
    };
    assert_eq!(status.phase, Some(crds::analysis::AnalysisPhase::Error));
    assert!(!event.message.contains("hunter2"), "{}", event.message);
    assert!(
        event
            .message
            .starts_with("Analysis Completed. Result: Error: bad token")
    );
}
