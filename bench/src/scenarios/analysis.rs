//! The analysis scenario: N AnalysisRuns created at once, each measuring a query
//! [`COUNT`] times 1 s apart, until all are Successful: the controller process's CPU per
//! measurement. The query goes to a real Prometheus (Debian's `prometheus`, started here with
//! its own config and data folder, the series pushed by remote write) when one is installed,
//! else to a local web metric serving the same value.

use std::time::Duration;

use kube::Api;
use kube::api::{ListParams, PostParams};
use serde_json::json;

use super::Sizes;
use crate::harness::{Cluster, Controller, until};
use crate::stats::Summary;
use crate::table::Row;

/// Measurements per AnalysisRun.
const COUNT: u32 = 3;

/// Where the measurements go: a Prometheus, or a web metric when none is installed.
enum Source {
    Prometheus(sim::prometheus::PrometheusServer),
    Web(tests::serve::Served),
}

impl Source {
    async fn start() -> Self {
        match sim::prometheus::PrometheusServer::start().await {
            Ok(server) => {
                tests::series::push_constant(&server.remote_write_url(), "success_rate", &[("version", "good")], 0.97)
                    .await;
                Self::Prometheus(server)
            }
            Err(_) => Self::Web(tests::serve::Served::start(axum::Router::new().route(
                "/rate",
                axum::routing::get(|| async { axum::Json(json!({"rate": 0.97})) }),
            ))),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Self::Prometheus(_) => "Prometheus",
            Self::Web(_) => "web metric (no prometheus installed)",
        }
    }

    fn provider(&self) -> serde_json::Value {
        match self {
            Self::Prometheus(_) => json!({"prometheus": {"query": "success_rate{version=\"good\"}"}}),
            Self::Web(served) => json!({"web": {
                "url": format!("http://127.0.0.1:{}/rate", served.port), "jsonPath": "{$.rate}"
            }}),
        }
    }

    fn controller_flags(&self) -> Vec<String> {
        match self {
            Self::Prometheus(server) => vec!["--prometheus-address".into(), server.url().to_owned()],
            Self::Web(_) => Vec::new(),
        }
    }
}

async fn run_once(runs: usize, source: &Source) -> f64 {
    let cluster = Cluster::start().await;
    let flags = source.controller_flags();
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let controller = Controller::start_with(&cluster, &flags);
    controller.ready().await;
    let api: Api<crds::AnalysisRun> = Api::namespaced(cluster.client.clone(), "default");
    let condition = if matches!(source, Source::Prometheus(_)) {
        "result[0] >= 0.95"
    } else {
        "result >= 0.95"
    };
    let cpu = controller.cpu_seconds();
    for i in 0..runs {
        let run: crds::AnalysisRun = serde_json::from_value(json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisRun",
            "metadata": {"name": format!("run-{i}"), "namespace": "default"},
            "spec": {"metrics": [{
                "name": "rate", "interval": "1s", "count": COUNT,
                "successCondition": condition, "provider": source.provider()
            }]}
        }))
        .expect("a valid AnalysisRun");
        api.create(&PostParams::default(), &run).await.expect("created");
    }
    let all_successful = || async {
        api.list(&ListParams::default()).await.map_or(0, |l| {
            l.items
                .iter()
                .filter(|r| r.status.as_ref().and_then(|s| s.phase) == Some(crds::analysis::AnalysisPhase::Successful))
                .count()
        }) >= runs
    };
    let _ = until(Duration::from_secs(900), Duration::from_millis(250), all_successful).await;
    (controller.cpu_seconds() - cpu) * 1000.0 / (runs as f64 * f64::from(COUNT))
}

/// The analysis row, over `sizes.runs` runs.
pub async fn rows(sizes: Sizes) -> Vec<Row> {
    let source = Source::start().await;
    let mut values = Vec::new();
    for _ in 0..sizes.runs {
        values.push(run_once(sizes.analysis_runs, &source).await);
    }
    vec![Row {
        scenario: "analysis",
        figure: format!(
            "controller CPU per measurement: {} AnalysisRuns x {COUNT} measurements against a {}",
            sizes.analysis_runs,
            source.name()
        ),
        unit: "ms",
        value: Summary::of(&values),
        floor: None,
        goal: "< 1 ms",
    }]
}
