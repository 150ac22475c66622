//! Routers whose weighted object the Rollout creates, end to end on the simulated API server:
//! NGINX (a canary Ingress cloned from the stable one, weighted by annotation) with a real
//! Prometheus judging the canary, where the bad version fails its analysis at 10% with only the
//! canary's tenth of the requests failing, and the abort sets weight 0 before the canary is scaled
//! down; and an SMI TrafficSplit (a minimal CRD of ours, `tests/fixtures/smi/`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::Duration;

use crds::rollout::RolloutPhase;
use kube::Api;
use kube::api::{ApiResource, DynamicObject};
use serde_json::{Value, json};
use tests::cluster::Cluster;
use tests::rollouts::{Probe, phase_of, step_of};
use tests::traffic::{canary_share, prometheus_value};

const NS: &str = "default";
const WAIT: Duration = Duration::from_secs(90);

fn yaml(objects: &[Value]) -> String {
    objects
        .iter()
        .map(|v| serde_yaml::to_string(v).unwrap())
        .collect::<Vec<_>>()
        .join("---\n")
}

fn service(name: &str, app: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
        "spec": {"selector": {"app": app}, "ports": [{"port": 80}]}})
}

fn rollout(name: &str, image: &str, canary: Value) -> Value {
    json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": name},
        "spec": {"replicas": 4, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}, "annotations": {"sim.sluice.dev/start-delay": "100ms"}},
                         "spec": {"containers": [{"name": name, "image": image}]}},
            "strategy": {"canary": canary}}})
}

fn nginx_manifests() -> String {
    let ingress = json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "api", "annotations": {"nginx.ingress.kubernetes.io/ssl-redirect": "false"}},
        "spec": {"ingressClassName": "nginx", "rules": [{"host": "api.example", "http": {"paths": [
            {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "api-stable", "port": {"number": 80}}}}]}}]}});
    let query = |filter: &str| {
        format!(
            "sum(rate(http_requests_total{{job=\"api\",rollouts_pod_template_hash=\"{{{{args.canary-hash}}}}\"{filter}}}[20s]))"
        )
    };
    let template = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate", "metadata": {"name": "success-rate"},
        "spec": {"args": [{"name": "canary-hash"}], "metrics": [{"name": "success-rate",
            "initialDelay": "10s", "interval": "5s", "count": 2, "successCondition": "result[0] >= 0.95",
            "provider": {"prometheus": {"query": format!("{} / {}", query(",status!~\"5..\""), query(""))}}}]}});
    let canary = json!({"canaryService": "api-canary", "stableService": "api-stable",
        "scaleDownDelaySeconds": 1, "abortScaleDownDelaySeconds": 5,
        "trafficRouting": {"nginx": {"stableIngress": "api", "additionalIngressAnnotations": {"canary-by-header": "X-Canary"}}},
        "steps": [{"setWeight": 10},
            {"analysis": {"templates": [{"templateName": "success-rate"}],
                "args": [{"name": "canary-hash", "valueFrom": {"podTemplateHashValue": "Latest"}}]}},
            {"setWeight": 50}, {"pause": {}}]});
    yaml(&[
        service("api-stable", "api"),
        service("api-canary", "api"),
        ingress,
        template,
        rollout("api", "api:1", canary),
    ])
}

fn api(cluster: &Cluster, group: &str, version: &str, kind: &str, plural: &str) -> Api<DynamicObject> {
    let resource = ApiResource {
        group: group.into(),
        version: version.into(),
        api_version: format!("{group}/{version}"),
        kind: kind.into(),
        plural: plural.into(),
    };
    Api::namespaced_with(cluster.client.clone(), NS, &resource)
}

/// The canary Ingress, if it exists.
async fn canary_ingress(cluster: &Cluster) -> Option<Value> {
    let ingresses = api(cluster, "networking.k8s.io", "v1", "Ingress", "ingresses");
    let found = ingresses.get_opt("api-api-canary").await.unwrap()?;
    Some(serde_json::to_value(found).unwrap())
}

async fn nginx_weight(cluster: &Cluster) -> Option<String> {
    let ingress = canary_ingress(cluster).await?;
    ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/canary-weight"]
        .as_str()
        .map(str::to_owned)
}

async fn wait_nginx_weight(cluster: &Cluster, want: &str) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while nginx_weight(cluster).await.as_deref() != Some(want) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "canary-weight {:?}, want {want}",
            nginx_weight(cluster).await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn promoted(r: &crds::Rollout) -> bool {
    let s = r.status.clone().unwrap_or_default();
    s.stable_rs.is_some() && s.stable_rs == s.current_pod_hash && phase_of(r) == Some(RolloutPhase::Healthy)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_nginx_canary_is_judged_by_prometheus_on_its_tenth_of_the_requests_and_aborted_to_weight_zero() {
    let prometheus = sim::prometheus::PrometheusServer::start().await.unwrap();
    let cluster = Cluster::start(Some(prometheus.url())).await;
    let (_, metrics) = sim::workloads::metrics_server::serve(
        cluster.client.clone(),
        "127.0.0.1:0",
        sim::workloads::metrics_server::DEFAULT_REQUEST_RATE,
        Some(prometheus.remote_write_url()),
    )
    .await
    .unwrap();
    cluster.apply(&nginx_manifests(), NS).await;
    let probe = Probe::new(&cluster.client, NS, "api");
    probe.wait_phase(RolloutPhase::Healthy, WAIT).await;
    wait_nginx_weight(&cluster, "0").await;
    let ingress = canary_ingress(&cluster).await.unwrap();
    assert_eq!(
        ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"],
        "api-canary"
    );
    assert_eq!(ingress["spec"]["ingressClassName"], "nginx");
    assert_eq!(
        ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/canary-by-header"],
        "X-Canary"
    );
    assert_eq!(
        ingress["metadata"]["annotations"].get("nginx.ingress.kubernetes.io/ssl-redirect"),
        None,
        "the stable Ingress's own nginx annotations stay off the canary"
    );
    assert_eq!(ingress["metadata"]["ownerReferences"][0]["kind"], "Rollout");

    // A good version passes its analysis at 10% and goes on to 50%, where its 2 pods of 6
    // answer half of the requests.
    probe.set_image("api:2").await;
    let at_50 = probe
        .wait("paused at 50%", WAIT, |r, _| {
            step_of(r) == Some(3) && phase_of(r) == Some(RolloutPhase::Paused)
        })
        .await;
    wait_nginx_weight(&cluster, "50").await;
    let share = canary_share(
        &cluster.client,
        &at_50.status.clone().unwrap().current_pod_hash.unwrap(),
    )
    .await;
    assert!((share - 0.5).abs() < 0.02, "canary share of requests {share}");
    probe.promote().await;
    probe.wait("2 promoted", WAIT, |r, _| promoted(r)).await;
    wait_nginx_weight(&cluster, "0").await;

    // The bad version at 10%: its one pod of five answers a tenth of the requests.
    probe.set_image("api:3-bad").await;
    let at_10 = probe.wait("analysing at 10%", WAIT, |r, _| step_of(r) == Some(1)).await;
    wait_nginx_weight(&cluster, "10").await;
    let bad_hash = at_10.status.clone().unwrap().current_pod_hash.unwrap();
    let share = canary_share(&cluster.client, &bad_hash).await;
    assert!((share - 0.10).abs() < 0.02, "canary share of requests {share}");
    probe.wait_phase(RolloutPhase::Degraded, WAIT).await;
    // The abort: weight 0 at once, while the canary pod stays up for abortScaleDownDelaySeconds.
    wait_nginx_weight(&cluster, "0").await;
    assert_eq!(
        probe.counts_of("api:3-bad").await.0,
        1,
        "scaled down only after the delay"
    );

    // Prometheus saw the canary fail 20% of its requests, but only ~5% of all requests failed.
    let runs: Api<crds::AnalysisRun> = Api::namespaced(cluster.client.clone(), NS);
    let failed = runs
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|r| r.metadata.name.as_deref().is_some_and(|n| n.contains(&bad_hash)))
        .unwrap();
    let measurement = failed.status.unwrap().metric_results[0].measurements[0].clone();
    assert!(
        measurement.value.as_deref().is_some_and(|v| v.starts_with("[0.8")),
        "{measurement:?}"
    );
    let at: jiff::Timestamp = measurement.finished_at.unwrap().0;
    #[allow(clippy::cast_precision_loss)]
    let time = at.as_millisecond() as f64 / 1000.0;
    let all = "sum(rate(http_requests_total{job=\"api\",status=~\"5..\"}[20s])) / sum(rate(http_requests_total{job=\"api\"}[20s]))";
    let failing = prometheus_value(prometheus.url(), all, time).await.unwrap();
    assert!(
        (0.025..0.055).contains(&failing),
        "share of all requests failing {failing} (0.03 stable, 0.2 canary; 0.064 if split by pods)"
    );

    probe
        .wait("the canary scaled down", WAIT, |_, sets| {
            sets.iter().filter(|s| s.image == "api:3-bad").all(|s| s.spec == 0)
        })
        .await;
    metrics.abort();
}

fn smi_manifests() -> String {
    let canary = json!({"canaryService": "web-canary", "stableService": "web-stable", "scaleDownDelaySeconds": 1,
        "trafficRouting": {"smi": {"rootService": "web"}},
        "steps": [{"setWeight": 10}, {"pause": {}}]});
    yaml(&[
        service("web", "web"),
        service("web-stable", "web"),
        service("web-canary", "web"),
        rollout("web", "web:1", canary),
    ])
}

async fn split_weights(cluster: &Cluster) -> Option<Value> {
    let splits = api(
        cluster,
        "split.smi-spec.io",
        "v1alpha1",
        "TrafficSplit",
        "trafficsplits",
    );
    let split = serde_json::to_value(splits.get_opt("web").await.unwrap()?).unwrap();
    Some(split["spec"].clone())
}

async fn wait_split(cluster: &Cluster, canary: i64, stable: i64) {
    let want = json!({"service": "web", "backends": [
        {"service": "web-canary", "weight": canary}, {"service": "web-stable", "weight": stable}]});
    let deadline = tokio::time::Instant::now() + WAIT;
    while split_weights(cluster).await.as_ref() != Some(&want) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "TrafficSplit {:?}, want {want}",
            split_weights(cluster).await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_smi_traffic_split_is_created_for_the_rollout_and_requests_follow_it() {
    let cluster = Cluster::start(None).await;
    let crd =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/smi/trafficsplits.yaml")).unwrap();
    cluster.apply(&crd, NS).await;
    cluster.apply(&smi_manifests(), NS).await;
    let probe = Probe::new(&cluster.client, NS, "web");
    probe.wait_phase(RolloutPhase::Healthy, WAIT).await;
    wait_split(&cluster, 0, 100).await;
    probe.set_image("web:2").await;
    let paused = probe
        .wait("paused at 10%", WAIT, |r, _| {
            step_of(r) == Some(1) && phase_of(r) == Some(RolloutPhase::Paused)
        })
        .await;
    wait_split(&cluster, 10, 90).await;
    // One canary pod of five would answer 20% unrouted; the split gives it 10%.
    let share = canary_share(
        &cluster.client,
        &paused.status.clone().unwrap().current_pod_hash.unwrap(),
    )
    .await;
    assert!((share - 0.10).abs() < 0.02, "canary share of requests {share}");
    probe.promote().await;
    probe.wait("promoted", WAIT, |r, _| promoted(r)).await;
    wait_split(&cluster, 0, 100).await;
}
