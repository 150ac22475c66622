//! `bench --quick` produces the table and the report (its numbers are not checked here: they are
//! measurements, not behaviour).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[test]
fn a_quick_run_writes_the_table_with_every_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("BENCHMARKS.md");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bench"))
        .arg("--quick")
        .arg("--out")
        .arg(&report)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let written = std::fs::read_to_string(&report).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        written,
        "what is printed is what is written"
    );
    assert!(written.starts_with("# Benchmarks\n"), "{written}");
    assert!(written.contains(" cores, "), "the machine is named: {written}");
    assert!(
        written.contains("| scenario | figure | value (median, min–max) | floor (same run) | ratio | goal |"),
        "{written}"
    );
    for scenario in [
        "| push to applied |",
        "| sync |",
        "| re-sync |",
        "| appset |",
        "| memory |",
        "| revert |",
        "| scale |",
        "| canary |",
        "| idle |",
        "| analysis |",
        "| plugin |",
    ] {
        assert!(written.contains(scenario), "{scenario} missing: {written}");
    }
}
