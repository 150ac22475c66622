//! The Grafana dashboard in `deploy/dashboards/` asks only for series the controller exports:
//! every `sluice_*` name in its queries is a registered metric, with a suffix its type has
//! (`_total` for counters, `_bucket`/`_sum`/`_count` for histograms, none for gauges).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use controller::metrics::{
    FailureLabels, MeasurementLabels, Metrics, PhaseLabels, ReconcileLabels, ResultLabels, RolloutLabels, RunLabels,
};
use serde_json::Value;

/// Metric name -> type, from the `# TYPE` lines of the rendered registry (a family shows once
/// it has a series, so each gets one).
fn exported() -> BTreeMap<String, String> {
    let metrics = Metrics::default();
    let controller = ReconcileLabels { controller: "rollout" };
    metrics.reconciles.get_or_create(&controller).inc();
    metrics.duration.get_or_create(&controller).observe(0.1);
    metrics
        .failures
        .get_or_create(&FailureLabels {
            controller: "rollout",
            kind: "api",
        })
        .inc();
    metrics
        .measurements
        .get_or_create(&MeasurementLabels {
            provider: "web",
            phase: "Successful",
        })
        .inc();
    metrics
        .runs_completed
        .get_or_create(&RunLabels { phase: "Successful" })
        .inc();
    metrics
        .rollouts
        .get_or_create(&RolloutLabels { phase: "Healthy" })
        .set(1);
    metrics
        .app_syncs
        .get_or_create(&PhaseLabels { phase: "Succeeded" })
        .inc();
    metrics.git_fetches.get_or_create(&ResultLabels { result: "ok" }).inc();
    metrics.reverts.get_or_create(&ResultLabels { result: "pushed" }).inc();
    metrics
        .render()
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_once(' '))
        .map(|(name, kind)| (name.to_owned(), kind.to_owned()))
        .collect()
}

/// Every `sluice_...` identifier in `expr`.
fn names(expr: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = expr;
    while let Some(at) = rest.find("sluice_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        found.push(tail[..end].to_owned());
        rest = &tail[end..];
    }
    found
}

fn exprs(panel: &Value, out: &mut Vec<(String, String)>) {
    let title = panel["title"].as_str().unwrap_or_default().to_owned();
    for target in panel["targets"].as_array().into_iter().flatten() {
        out.push((title.clone(), target["expr"].as_str().unwrap().to_owned()));
    }
    for inner in panel["panels"].as_array().into_iter().flatten() {
        exprs(inner, out);
    }
}

#[test]
fn every_dashboard_query_names_an_exported_metric() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/dashboards/sluice.json");
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut queries = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        exprs(panel, &mut queries);
    }
    assert!(queries.len() >= 10, "{queries:?}");
    let exported = exported();
    let mut used = std::collections::BTreeSet::new();
    for (title, expr) in &queries {
        let found = names(expr);
        assert!(!found.is_empty(), "panel {title:?} queries no Sluice metric: {expr}");
        for name in found {
            let (base, suffixes): (&str, &[&str]) = if let Some(b) = name.strip_suffix("_total") {
                (b, &["counter"])
            } else if let Some(b) = ["_bucket", "_sum", "_count"].iter().find_map(|s| name.strip_suffix(s)) {
                (b, &["histogram"])
            } else {
                (name.as_str(), &["gauge"])
            };
            let kind = exported
                .get(base)
                .unwrap_or_else(|| panic!("panel {title:?} asks for {name}, which the controller does not export"));
            assert!(suffixes.contains(&kind.as_str()), "panel {title:?}: {name} on a {kind}");
            used.insert(base.to_owned());
        }
    }
    // The panels an operator looks at first are there.
    for wanted in [
        "sluice_rollouts",
        "sluice_analysisruns_completed",
        "sluice_app_sync",
        "sluice_reverts",
        "sluice_git_fetch_duration_seconds",
    ] {
        assert!(used.contains(wanted), "no panel shows {wanted}");
    }
}
