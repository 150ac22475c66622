//! AnalysisRuns end to end: the controller (over HTTP) against the simulated API server, a real
//! Prometheus (samples pushed through remote write), and Jobs run by the workload simulator.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use crds::analysis::{AnalysisPhase, AnalysisTemplateSpec, MetricResult};
use crds::{AnalysisRun, AnalysisTemplate, ClusterAnalysisTemplate};
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use sim::prometheus::PrometheusServer;
use tests::cluster::Cluster;
use tests::series::push_constant;

const NS: &str = "default";
const WAIT: Duration = Duration::from_secs(30);

async fn prometheus() -> PrometheusServer {
    let prometheus = PrometheusServer::start().await.unwrap();
    let url = prometheus.remote_write_url();
    push_constant(&url, "success_rate", &[("version", "good")], 0.97).await;
    push_constant(&url, "success_rate", &[("version", "bad")], 0.80).await;
    push_constant(&url, "success_rate", &[("version", "nan")], f64::NAN).await;
    prometheus
}

/// An AnalysisRun with one Prometheus metric named `rate`.
fn prometheus_run(name: &str, query: &str, fields: &str) -> String {
    let mut yaml = format!(
        "apiVersion: argoproj.io/v1alpha1\nkind: AnalysisRun\nmetadata:\n  name: {name}\nspec:\n  metrics:\n  - name: rate\n    provider:\n      prometheus:\n        query: '{query}'\n"
    );
    for line in fields.lines() {
        yaml.push_str(&format!("    {line}\n"));
    }
    yaml
}

fn metric(run: &AnalysisRun) -> &MetricResult {
    &run.status.as_ref().unwrap().metric_results[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_good_version_passes_and_a_bad_one_fails_after_its_failure_limit() {
    let prometheus = prometheus().await;
    let cluster = Cluster::start(Some(prometheus.url())).await;
    let fields = "interval: 1s\ncount: 3\nfailureLimit: 1\nsuccessCondition: result[0] >= 0.95";
    cluster
        .apply(&prometheus_run("good", "success_rate{version=\"good\"}", fields), NS)
        .await;
    cluster
        .apply(&prometheus_run("bad", "success_rate{version=\"bad\"}", fields), NS)
        .await;

    let good = cluster.completed_run(NS, "good", WAIT).await;
    let status = good.status.as_ref().unwrap();
    assert_eq!(status.phase, Some(AnalysisPhase::Successful), "{status:?}");
    assert_eq!((metric(&good).count, metric(&good).successful), (3, 3));
    assert_eq!(metric(&good).measurements[0].value.as_deref(), Some("[0.97]"));

    let bad = cluster.completed_run(NS, "bad", WAIT).await;
    let status = bad.status.as_ref().unwrap();
    assert_eq!(status.phase, Some(AnalysisPhase::Failed));
    assert_eq!(
        (metric(&bad).count, metric(&bad).failed),
        (2, 2),
        "stops at failureLimit + 1"
    );
    assert_eq!(
        status.message.as_deref(),
        Some("Metric \"rate\" assessed Failed due to failed (2) > failureLimit (1)")
    );
    let summary = status.run_summary.clone().unwrap();
    assert_eq!((summary.count, summary.failed), (1, 1));
    assert!(status.completed_at.is_some() && status.started_at.is_some());
    let metrics = cluster.metrics.render();
    assert!(
        metrics.contains("sluice_analysis_measurements_total{provider=\"prometheus\",phase=\"Failed\"} 2"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nan_and_empty_results_follow_the_written_conditions() {
    let prometheus = prometheus().await;
    let cluster = Cluster::start(Some(prometheus.url())).await;
    let none = "success_rate{version=\"none\"}";
    let nan = "success_rate{version=\"nan\"}";
    let cases = [
        (
            "empty-guarded",
            none,
            "len(result) == 0 || result[0] >= 0.95",
            AnalysisPhase::Successful,
        ),
        ("empty-unguarded", none, "result[0] >= 0.95", AnalysisPhase::Error),
        (
            "empty-default",
            none,
            "default(result[0], 1) >= 0.95",
            AnalysisPhase::Successful,
        ),
        (
            "nan-guarded",
            nan,
            "isNaN(result[0]) || result[0] >= 0.95",
            AnalysisPhase::Successful,
        ),
        ("nan-unguarded", nan, "result[0] >= 0.95", AnalysisPhase::Failed),
        (
            "scalar",
            "scalar(success_rate{version=\"good\"})",
            "result >= 0.95",
            AnalysisPhase::Successful,
        ),
    ];
    for (name, query, condition, _) in &cases {
        let fields = format!("consecutiveErrorLimit: 0\nsuccessCondition: '{condition}'");
        cluster.apply(&prometheus_run(name, query, &fields), NS).await;
    }
    for (name, _, _, want) in cases {
        let run = cluster.completed_run(NS, name, WAIT).await;
        assert_eq!(
            run.status.as_ref().unwrap().phase,
            Some(want),
            "{name}: {:?}",
            run.status
        );
    }
    let unguarded = cluster.completed_run(NS, "empty-unguarded", WAIT).await;
    let message = metric(&unguarded).measurements[0].message.clone().unwrap();
    assert!(
        message.contains("empty list") && message.contains("len(result) > 0"),
        "{message}"
    );
    assert_eq!(metric(&unguarded).measurements[0].value.as_deref(), Some("[]"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_bad_query_errors_with_prometheus_own_message() {
    let prometheus = prometheus().await;
    let cluster = Cluster::start(Some(prometheus.url())).await;
    cluster
        .apply(
            &prometheus_run("bad-query", "sum(rate(x[5m])", "consecutiveErrorLimit: 0"),
            NS,
        )
        .await;
    let run = cluster.completed_run(NS, "bad-query", WAIT).await;
    assert_eq!(run.status.as_ref().unwrap().phase, Some(AnalysisPhase::Error));
    let message = metric(&run).measurements[0].message.clone().unwrap();
    assert!(
        message.starts_with("bad_data: ") && message.contains("parse error"),
        "{message}"
    );
}

/// Argo's `analysis-run-prometheus-bad-server` case: every measurement errors, is retried after
/// 10 s (not the interval), and the run errors after consecutiveErrorLimit + 1 attempts.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unreachable_server_errors_after_the_error_limit() {
    let cluster = Cluster::start(None).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let yaml = prometheus_run("bad-server", "up", "interval: 1m\nconsecutiveErrorLimit: 1").replace(
        "        query:",
        &format!("        address: http://{closed}\n        query:"),
    );
    cluster.apply(&yaml, NS).await;
    let run = cluster.completed_run(NS, "bad-server", Duration::from_secs(40)).await;
    let status = run.status.as_ref().unwrap();
    assert_eq!(status.phase, Some(AnalysisPhase::Error));
    let result = metric(&run);
    assert_eq!((result.error, result.consecutive_error, result.count), (2, 2, 0));
    let times: Vec<_> = result
        .measurements
        .iter()
        .map(|m| m.started_at.clone().unwrap().0)
        .collect();
    // Recorded timestamps (whole seconds): the retry waits the 10 s error delay, and comes long
    // before the 1 m interval, however loaded the machine is.
    let gap = times[1].duration_since(times[0]).as_secs_f64();
    assert!(
        (9.0..50.0).contains(&gap),
        "retried after {gap}s: the 10 s delay, not the 1 m interval"
    );
    assert!(
        result.measurements[0]
            .message
            .as_deref()
            .unwrap()
            .contains(&closed.to_string())
    );
    let message = status.message.as_deref().unwrap();
    assert!(
        message.contains("consecutiveErrors (2) > consecutiveErrorLimit (1)"),
        "{message}"
    );
}

/// The conformance templates (job provider), turned into runs as a Rollout would.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conformance_job_templates_reach_their_expected_phase() {
    let cluster = Cluster::start(None).await;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/conformance/argo-rollouts");
    let read = |file: &str| std::fs::read_to_string(format!("{dir}/{file}")).unwrap();
    cluster.apply(&read("analysis-templates.yaml"), NS).await;
    cluster.apply(&read("cluster-analysis-templates.yaml"), NS).await;
    let templates: Api<AnalysisTemplate> = Api::namespaced(cluster.client.clone(), NS);
    let cluster_templates: Api<ClusterAnalysisTemplate> = Api::all(cluster.client.clone());
    let runs: Api<AnalysisRun> = Api::namespaced(cluster.client.clone(), NS);
    let specs: Vec<(&str, AnalysisTemplateSpec)> = vec![
        ("pass", templates.get("pass").await.unwrap().spec),
        ("random-fail", templates.get("random-fail").await.unwrap().spec),
        (
            "always-pass",
            cluster_templates.get("always-pass").await.unwrap().spec.template,
        ),
    ];
    for (name, spec) in &specs {
        let run = AnalysisRun::new(name, analysis::template::run_spec(&[spec], &[]).unwrap());
        runs.create(&PostParams::default(), &run).await.unwrap();
    }
    // The simulated `alpine:3.8` exits 0, so random-fail passes here too.
    for (name, _) in &specs {
        let run = cluster.completed_run(NS, name, WAIT).await;
        let status = run.status.as_ref().unwrap();
        assert_eq!(status.phase, Some(AnalysisPhase::Successful), "{name}: {status:?}");
        let job = metric(&run).measurements[0].metadata.get("job-name").unwrap();
        assert!(job.starts_with(&run.metadata.uid.clone().unwrap()), "{job}");
    }
    let random = runs.get("random-fail").await.unwrap();
    assert_eq!(metric(&random).count, 2, "count 2, every 5 s");
}

fn job_run(name: &str, image: &str, delay: &str) -> String {
    format!(
        "apiVersion: argoproj.io/v1alpha1\nkind: AnalysisRun\nmetadata:\n  name: {name}\nspec:\n  metrics:\n  - name: check\n    provider:\n      job:\n        spec:\n          backoffLimit: 0\n          template:\n            metadata:\n              annotations:\n                sim.sluice.dev/start-delay: {delay}\n            spec:\n              restartPolicy: Never\n              containers:\n              - name: c\n                image: {image}\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_job_fails_the_run_and_terminate_deletes_a_running_one() {
    let cluster = Cluster::start(None).await;
    cluster.apply(&job_run("failing", "check:1-fail", "100ms"), NS).await;
    cluster.apply(&job_run("long", "check:1", "1h"), NS).await;
    let failing = cluster.completed_run(NS, "failing", WAIT).await;
    assert_eq!(failing.status.as_ref().unwrap().phase, Some(AnalysisPhase::Failed));

    let runs: Api<AnalysisRun> = Api::namespaced(cluster.client.clone(), NS);
    let jobs: Api<k8s_openapi::api::batch::v1::Job> = Api::namespaced(cluster.client.clone(), NS);
    let job_name = tests::wait::until_state(
        "a job to start",
        WAIT,
        Duration::from_millis(100),
        || async {
            let run = runs.get("long").await.unwrap();
            run.status
                .as_ref()
                .and_then(|s| s.metric_results.first())
                .and_then(|r| r.measurements.first())
                .and_then(|m| m.metadata.get("job-name").cloned())
        },
        Option::is_some,
    )
    .await
    .unwrap();
    assert!(jobs.get_opt(&job_name).await.unwrap().is_some());
    let terminate = serde_json::json!({"spec": {"terminate": true}});
    runs.patch("long", &PatchParams::default(), &Patch::Merge(&terminate))
        .await
        .unwrap();
    let long = cluster.completed_run(NS, "long", WAIT).await;
    let status = long.status.as_ref().unwrap();
    assert_eq!(status.phase, Some(AnalysisPhase::Successful));
    assert_eq!(status.message.as_deref(), Some("Run Terminated"));
    let job = jobs.get_opt(&job_name).await.unwrap();
    assert!(
        job.is_none_or(|j| j.metadata.deletion_timestamp.is_some()),
        "the running job is deleted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn secrets_are_used_but_never_written_and_bad_args_error_the_run() {
    let cluster = Cluster::start(None).await;
    let secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  token: s3cr3t-value\n";
    cluster.apply(secret, NS).await;
    // The web endpoint is the API server's /version; the secret travels in a header and in the URL.
    let url = format!("{}/version?token={{{{args.token}}}}", cluster.sim.url());
    let run = format!(
        "apiVersion: argoproj.io/v1alpha1\nkind: AnalysisRun\nmetadata:\n  name: web\nspec:\n  args:\n  - name: token\n    valueFrom:\n      secretKeyRef: {{name: creds, key: token}}\n  metrics:\n  - name: version\n    successCondition: result.major == '1'\n    provider:\n      web:\n        url: '{url}'\n        jsonPath: '{{$}}'\n        headers:\n        - key: X-Token\n          value: '{{{{args.token}}}}'\n"
    );
    cluster.apply(&run, NS).await;
    let web = cluster.completed_run(NS, "web", WAIT).await;
    assert_eq!(
        web.status.as_ref().unwrap().phase,
        Some(AnalysisPhase::Successful),
        "{:?}",
        web.status
    );
    let written = serde_json::to_string(&web.status).unwrap();
    assert!(!written.contains("s3cr3t-value"), "{written}");

    let missing = "apiVersion: argoproj.io/v1alpha1\nkind: AnalysisRun\nmetadata:\n  name: missing\nspec:\n  args:\n  - name: token\n    valueFrom:\n      secretKeyRef: {name: nope, key: token}\n  metrics:\n  - name: m\n    provider:\n      web:\n        url: http://127.0.0.1:1/{{args.token}}\n";
    cluster.apply(missing, NS).await;
    let run = cluster.completed_run(NS, "missing", WAIT).await;
    let status = run.status.as_ref().unwrap();
    assert_eq!(status.phase, Some(AnalysisPhase::Error));
    assert_eq!(
        status.message.as_deref(),
        Some("args.token: secret nope not found in namespace default")
    );
}
