//! End-to-end Rollouts: the Rollout and AnalysisRun controllers against the simulated cluster,
//! with the conformance manifests of Argo Rollouts, unchanged.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use crds::rollout::RolloutPhase;
use tests::cluster::Cluster;
use tests::rollouts::{Probe, phase_of, step_of};

const CONFORMANCE: &str = "../../shared/conformance/argo-rollouts";
const WAIT: Duration = Duration::from_secs(60);

fn conformance(file: &str) -> String {
    let path = format!("{}/{CONFORMANCE}/{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn basic_canary_pauses_at_half_and_completes_on_promote() {
    let cluster = Cluster::start(None).await;
    cluster.apply(&conformance("rollout-basic.yaml"), "default").await;
    let basic = Probe::new(&cluster.client, "default", "basic");
    let first = basic.wait_phase(RolloutPhase::Healthy, WAIT).await;
    let stable = first.status.as_ref().unwrap().stable_rs.clone().unwrap();
    assert_eq!(basic.counts_of("nginx:1.19-alpine").await, (1, 1));

    basic.set_image("nginx:1.20-alpine").await;
    // One replica with surge: one canary beside the one stable pod, then the indefinite pause.
    let paused = basic.wait_phase(RolloutPhase::Paused, WAIT).await;
    assert_eq!(step_of(&paused), Some(1));
    assert_eq!(basic.counts_of("nginx:1.20-alpine").await, (1, 1));
    assert_eq!(basic.counts_of("nginx:1.19-alpine").await, (1, 1));
    assert_eq!(
        paused.status.as_ref().unwrap().stable_rs.as_deref(),
        Some(stable.as_str())
    );

    basic.promote().await;
    let done = basic
        .wait("the new version to be stable and alone", WAIT, |r, sets| {
            phase_of(r) == Some(RolloutPhase::Healthy) && sets.iter().filter(|s| s.spec > 0).count() == 1
        })
        .await;
    let status = done.status.unwrap();
    assert_eq!(status.current_step_index, Some(2));
    assert_eq!(status.stable_rs, status.current_pod_hash);
    assert_eq!(basic.counts_of("nginx:1.20-alpine").await, (1, 1));
    assert_eq!(basic.counts_of("nginx:1.19-alpine").await.0, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn canary_conformance_moves_through_every_weight() {
    let cluster = Cluster::start(None).await;
    cluster.apply(&conformance("rollout-canary.yaml"), "default").await;
    let canary = Probe::new(&cluster.client, "default", "rollout-canary");
    canary.wait_phase(RolloutPhase::Healthy, WAIT).await;
    canary.set_image("argoproj/rollouts-demo:yellow").await;
    // (step index of the pause, new pods, old pods): 20%, 40%, 60%, 80% of five replicas.
    for (pause_step, new, old) in [(1, 1, 4), (3, 2, 3), (5, 3, 2), (7, 4, 1)] {
        let paused = canary
            .wait(&format!("the pause at step {pause_step}"), WAIT, |r, _| {
                phase_of(r) == Some(RolloutPhase::Paused) && step_of(r) == Some(pause_step)
            })
            .await;
        assert_eq!(
            canary.counts_of("argoproj/rollouts-demo:yellow").await,
            (new, new),
            "step {pause_step}"
        );
        assert_eq!(
            canary.counts_of("argoproj/rollouts-demo:blue").await,
            (old, old),
            "step {pause_step}"
        );
        let status = paused.status.unwrap();
        assert_eq!(status.pause_conditions.len(), 1);
        assert_eq!(status.controller_pause, Some(true));
        canary.promote().await;
    }
    let done = canary.wait_phase(RolloutPhase::Healthy, WAIT).await;
    assert_eq!(step_of(&done), Some(8));
    assert_eq!(canary.counts_of("argoproj/rollouts-demo:yellow").await, (5, 5));
    assert_eq!(canary.counts_of("argoproj/rollouts-demo:blue").await.0, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_analysis_step_runs_argo_named_analysisruns_and_continues_when_they_pass() {
    let cluster = Cluster::start(None).await;
    cluster.apply(&conformance("analysis-templates.yaml"), "default").await;
    cluster
        .apply(&conformance("cluster-analysis-templates.yaml"), "default")
        .await;
    cluster
        .apply(&conformance("rollout-analysis-step.yaml"), "default")
        .await;
    let rollout = Probe::new(&cluster.client, "default", "rollout-analysis-step");
    rollout.wait_phase(RolloutPhase::Healthy, WAIT).await;
    rollout.set_image("argoproj/rollouts-demo:yellow").await;
    let at_analysis = rollout
        .wait("the analysis step", WAIT, |r, _| step_of(r) == Some(1))
        .await;
    assert_eq!(rollout.counts_of("argoproj/rollouts-demo:yellow").await, (1, 1));
    let status = at_analysis.status.unwrap();
    let hash = status.current_pod_hash.unwrap();
    let runs: kube::Api<crds::AnalysisRun> = kube::Api::namespaced(cluster.client.clone(), "default");
    let name = format!("rollout-analysis-step-{hash}-2-1");
    let run = cluster.completed_run("default", &name, WAIT).await;
    let labels = run.metadata.labels.clone().unwrap();
    assert_eq!(labels["rollout-type"], "Step");
    assert_eq!(labels["step-index"], "1");
    assert_eq!(labels["rollouts-pod-template-hash"], hash);
    assert_eq!(labels["app"], "rollout-analysis-step");
    let metrics: Vec<_> = run.spec.metrics.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(metrics, ["random-fail", "pass"]);
    let done = rollout.wait_phase(RolloutPhase::Healthy, WAIT).await;
    assert_eq!(done.status.as_ref().unwrap().stable_rs.as_deref(), Some(hash.as_str()));
    assert_eq!(rollout.counts_of("argoproj/rollouts-demo:yellow").await, (4, 4));
    assert_eq!(runs.list(&Default::default()).await.unwrap().items.len(), 1);
}

/// The conformance `random-fail` template with its coin landing on 1 (the simulated Job exits 1,
/// through the simulator's `exit-code` annotation, since it runs no shell): both measurements
/// fail, the run fails past `failureLimit: 1`, and the conformance Rollout aborts to stable.
#[tokio::test(flavor = "multi_thread")]
async fn the_conformance_random_fail_template_failing_aborts_the_analysis_step() {
    let cluster = Cluster::start(None).await;
    let templates = crds::yaml::values(&conformance("analysis-templates.yaml")).unwrap();
    for mut template in templates {
        if template["metadata"]["name"].as_str() == Some("random-fail") {
            let pod = &mut template["spec"]["metrics"][0]["provider"]["job"]["spec"]["template"];
            pod["metadata"] = crds::yaml::from_str(
                "annotations: {sim.sluice.dev/exit-code: \"1\", sim.sluice.dev/start-delay: 100ms}",
            )
            .unwrap();
        }
        cluster
            .apply(&crds::yaml::to_string(&template).unwrap(), "default")
            .await;
    }
    cluster
        .apply(&conformance("cluster-analysis-templates.yaml"), "default")
        .await;
    cluster
        .apply(&conformance("rollout-analysis-step.yaml"), "default")
        .await;
    let rollout = Probe::new(&cluster.client, "default", "rollout-analysis-step");
    let first = rollout.wait_phase(RolloutPhase::Healthy, WAIT).await;
    let stable = first.status.as_ref().unwrap().stable_rs.clone().unwrap();
    rollout.set_image("argoproj/rollouts-demo:yellow").await;
    let aborted = rollout.wait_phase(RolloutPhase::Degraded, WAIT).await;
    let status = aborted.status.clone().unwrap();
    assert_eq!(status.abort, Some(true));
    assert_eq!(status.stable_rs.as_deref(), Some(stable.as_str()));
    let hash = status.current_pod_hash.unwrap();
    let run = cluster
        .completed_run("default", &format!("rollout-analysis-step-{hash}-2-1"), WAIT)
        .await;
    let result = &run.status.as_ref().unwrap().metric_results;
    let random = result.iter().find(|m| m.name == "random-fail").unwrap();
    assert_eq!(random.phase, Some(crds::analysis::AnalysisPhase::Failed));
    assert_eq!((random.count, random.failed), (2, 2), "count 2, failureLimit 1");
    rollout
        .wait("the canary scaled away", WAIT, |_, sets| {
            sets.iter().filter(|s| s.spec > 0).count() == 1
        })
        .await;
    tests::wait::until_state(
        "the stable version back at four ready pods",
        WAIT,
        Duration::from_millis(100),
        || rollout.counts_of("argoproj/rollouts-demo:blue"),
        |counts| *counts == (4, 4),
    )
    .await;
    assert_eq!(rollout.counts_of("argoproj/rollouts-demo:yellow").await.0, 0);
}

/// The founding Rollout with a canary-only success rate, judged by a real Prometheus.
fn api_with_canary_analysis(prometheus: &str) -> String {
    let yaml = std::fs::read_to_string(format!("{}/../examples/rollout-api.yaml", env!("CARGO_MANIFEST_DIR"))).unwrap();
    yaml.replace("http://prometheus:9090", prometheus)
        .replace(
            "              - templateName: success-rate\n",
            "              - templateName: success-rate\n            args:\n              - name: canary-hash\n                valueFrom:\n                  podTemplateHashValue: Latest\n",
        )
        .replace("spec:\n  metrics:\n", "spec:\n  args:\n    - name: canary-hash\n  metrics:\n")
        .replace("{job=\"api\",", "{job=\"api\",rollouts_pod_template_hash=\"{{args.canary-hash}}\",")
        .replace("{job=\"api\"}", "{job=\"api\",rollouts_pod_template_hash=\"{{args.canary-hash}}\"}")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_founding_rollout_updates_through_every_step_then_a_failing_analysis_aborts_and_going_back_is_fast_tracked()
{
    let prometheus = sim::prometheus::PrometheusServer::start().await.unwrap();
    let cluster = Cluster::start(Some(prometheus.url())).await;
    let yaml = api_with_canary_analysis(prometheus.url());
    assert!(yaml.contains("{{args.canary-hash}}"), "{yaml}");
    cluster.apply(&yaml, "default").await;
    let api = Probe::new(&cluster.client, "default", "api");
    let first = api.wait_phase(RolloutPhase::Healthy, WAIT).await;
    let initial = first.status.unwrap().stable_rs.unwrap();
    assert_eq!(api.service_hash("api-stable").await.as_deref(), Some(initial.as_str()));

    // A good version goes through every step: 10%, the 5 m pause (promoted), the analysis against
    // Prometheus, 50%, the 10 m pause (promoted), 100%.
    api.set_image("registry.example/api:1.0.1").await;
    api.wait("the 5m pause after 10%", WAIT, |r, _| {
        phase_of(r) == Some(RolloutPhase::Paused) && step_of(r) == Some(1)
    })
    .await;
    assert_eq!(api.counts_of("registry.example/api:1.0.1").await, (1, 1));
    assert_eq!(api.counts_of("registry.example/api:1.0.0").await, (9, 9));
    let hash = api.get().await.status.unwrap().current_pod_hash.unwrap();
    tests::series::push_pod_history(&cluster.client, &prometheus.remote_write_url(), "default", &hash).await;
    api.promote().await;
    api.wait("the 10m pause after 50%", WAIT, |r, _| {
        phase_of(r) == Some(RolloutPhase::Paused) && step_of(r) == Some(4)
    })
    .await;
    assert_eq!(api.counts_of("registry.example/api:1.0.1").await, (5, 5));
    assert_eq!(api.counts_of("registry.example/api:1.0.0").await, (5, 5));
    let good = api.get().await.status.unwrap();
    let run = good.canary.and_then(|c| c.current_step_analysis_run_status);
    assert_eq!(run, None, "the step's run is no longer current once the step completed");
    api.promote().await;
    let promoted = api
        .wait("1.0.1 to be stable", WAIT, |r, _| {
            phase_of(r) == Some(RolloutPhase::Healthy)
                && r.status.as_ref().is_some_and(|s| s.stable_rs == s.current_pod_hash)
        })
        .await;
    let stable = promoted.status.unwrap().stable_rs.unwrap();
    assert_eq!(api.counts_of("registry.example/api:1.0.1").await, (10, 10));
    let reasons = event_reasons(&cluster.client, "api").await;
    for reason in [
        "RolloutUpdated",
        "NewReplicaSetCreated",
        "ScalingReplicaSet",
        "RolloutPaused",
        "RolloutStepCompleted",
        "AnalysisRunSuccessful",
        "RolloutCompleted",
        "SwitchService",
    ] {
        assert!(reasons.iter().any(|r| r == reason), "no {reason} event in {reasons:?}");
    }

    api.set_image("registry.example/api:1.1.0-bad").await;
    api.wait("the 5m pause after 10%", WAIT, |r, _| {
        phase_of(r) == Some(RolloutPhase::Paused) && step_of(r) == Some(1)
    })
    .await;
    assert_eq!(api.counts_of("registry.example/api:1.1.0-bad").await, (1, 1));
    assert_eq!(api.counts_of("registry.example/api:1.0.1").await, (9, 9));
    let canary_hash = api.get().await.status.unwrap().current_pod_hash.unwrap();
    assert_eq!(
        api.service_hash("api-canary").await.as_deref(),
        Some(canary_hash.as_str())
    );
    tests::series::push_pod_history(&cluster.client, &prometheus.remote_write_url(), "default", &canary_hash).await;
    api.promote().await;

    let aborted = api.wait_phase(RolloutPhase::Degraded, WAIT).await;
    let status = aborted.status.clone().unwrap();
    assert_eq!(status.abort, Some(true));
    assert_eq!(status.current_step_index, Some(0));
    let message = aborted.status.as_ref().unwrap().message.clone().unwrap();
    assert!(
        message.starts_with(
            "RolloutAborted: Rollout aborted update to revision 3: Metric \"success-rate\" assessed Failed"
        ),
        "{message}"
    );
    let runs: kube::Api<crds::AnalysisRun> = kube::Api::namespaced(cluster.client.clone(), "default");
    let failed = runs.get(&format!("api-{canary_hash}-3-2")).await.unwrap();
    let value = failed.status.unwrap().metric_results[0].measurements[0]
        .value
        .clone()
        .unwrap();
    let measured: f64 = value.trim_matches(['[', ']']).parse().unwrap();
    assert!(
        (measured - 0.8).abs() < 0.02,
        "the bad version answers 80% of requests: {value}"
    );
    api.wait("the canary to be scaled away", WAIT, |_, sets| {
        sets.iter().any(|s| s.image.ends_with("-bad") && s.spec == 0)
            && sets.iter().any(|s| s.image.ends_with("1.0.1") && s.available == 10)
    })
    .await;
    assert_eq!(api.service_hash("api-canary").await.as_deref(), Some(stable.as_str()));
    assert_eq!(api.service_hash("api-stable").await.as_deref(), Some(stable.as_str()));

    // What a git revert does: the template goes back to the stable one. No steps, no analysis.
    let runs_before = runs.list(&Default::default()).await.unwrap().items.len();
    assert!(
        event_reasons(&cluster.client, "api")
            .await
            .iter()
            .any(|r| r == "RolloutAborted")
    );
    api.set_image("registry.example/api:1.0.1").await;
    let back = api.wait_phase(RolloutPhase::Healthy, WAIT).await;
    let status = back.status.unwrap();
    assert_eq!(status.abort, None);
    assert_eq!(status.stable_rs.as_deref(), Some(stable.as_str()));
    assert_eq!(status.current_step_index, Some(6));
    assert_eq!(runs.list(&Default::default()).await.unwrap().items.len(), runs_before);
}

#[tokio::test(flavor = "multi_thread")]
async fn blue_green_conformance_previews_pauses_and_switches_on_promote() {
    let cluster = Cluster::start(None).await;
    cluster.apply(&conformance("rollout-bluegreen.yaml"), "default").await;
    let bg = Probe::new(&cluster.client, "default", "rollout-bluegreen");
    let first = bg.wait_phase(RolloutPhase::Healthy, WAIT).await;
    let blue = first.status.unwrap().stable_rs.unwrap();
    assert_eq!(
        bg.service_hash("rollout-bluegreen-active").await.as_deref(),
        Some(blue.as_str())
    );

    bg.set_image("argoproj/rollouts-demo:green").await;
    let paused = bg.wait_phase(RolloutPhase::Paused, WAIT).await;
    let green = paused.status.as_ref().unwrap().current_pod_hash.clone().unwrap();
    assert_eq!(
        bg.service_hash("rollout-bluegreen-preview").await.as_deref(),
        Some(green.as_str())
    );
    assert_eq!(
        bg.service_hash("rollout-bluegreen-active").await.as_deref(),
        Some(blue.as_str())
    );
    assert_eq!(bg.counts_of("argoproj/rollouts-demo:green").await, (2, 2));
    assert_eq!(bg.counts_of("argoproj/rollouts-demo:blue").await, (2, 2));
    assert_eq!(
        paused.status.unwrap().pause_conditions[0].reason,
        crds::rollout::PauseReason::BlueGreenPause
    );

    let promoted = crds::clock::system().now();
    bg.promote().await;
    let done = bg.wait_phase(RolloutPhase::Healthy, WAIT).await;
    let seen = crds::clock::system().now();
    assert_eq!(done.status.unwrap().stable_rs.as_deref(), Some(green.as_str()));
    assert_eq!(
        bg.service_hash("rollout-bluegreen-active").await.as_deref(),
        Some(green.as_str())
    );
    // The old active ReplicaSet stays up for scaleDownDelaySeconds (30 s) behind a deadline.
    let api: kube::Api<k8s_openapi::api::apps::v1::ReplicaSet> =
        kube::Api::namespaced(cluster.client.clone(), "default");
    let old = api.get(&format!("rollout-bluegreen-{blue}")).await.unwrap();
    let deadline: jiff::Timestamp = old.metadata.annotations.unwrap()["scale-down-deadline"]
        .parse()
        .unwrap();
    // 30 s after the switch, which happened between the promote and Healthy being seen (the
    // deadline is written in whole seconds).
    let earliest = promoted + jiff::SignedDuration::from_secs(29);
    let latest = seen + jiff::SignedDuration::from_secs(31);
    assert!(
        earliest <= deadline && deadline <= latest,
        "deadline {deadline} outside {earliest}..{latest}"
    );
    assert_eq!(bg.counts_of("argoproj/rollouts-demo:blue").await.0, 2);
}

const BLUE_GREEN_ANALYSIS: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: bg-analysis
spec:
  replicas: 2
  selector:
    matchLabels: {app: bg-analysis}
  template:
    metadata:
      labels: {app: bg-analysis}
    spec:
      containers:
        - name: app
          image: example/app:1
  strategy:
    blueGreen:
      activeService: bg-analysis-active
      previewService: bg-analysis-preview
      scaleDownDelaySeconds: 2
      prePromotionAnalysis:
        templates: [{templateName: pass}]
      postPromotionAnalysis:
        templates: [{templateName: always-pass, clusterScope: true}]
---
apiVersion: v1
kind: Service
metadata: {name: bg-analysis-active}
spec:
  selector: {app: bg-analysis}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: bg-analysis-preview}
spec:
  selector: {app: bg-analysis}
  ports: [{port: 80}]
"#;

#[tokio::test(flavor = "multi_thread")]
async fn blue_green_runs_pre_and_post_promotion_analysis_around_the_switch() {
    let cluster = Cluster::start(None).await;
    cluster.apply(&conformance("analysis-templates.yaml"), "default").await;
    cluster
        .apply(&conformance("cluster-analysis-templates.yaml"), "default")
        .await;
    cluster.apply(BLUE_GREEN_ANALYSIS, "default").await;
    let bg = Probe::new(&cluster.client, "default", "bg-analysis");
    bg.wait_phase(RolloutPhase::Healthy, WAIT).await;
    bg.set_image("example/app:2").await;
    let done = bg
        .wait(
            "the new version to be stable with the old one scaled down",
            WAIT,
            |r, _| {
                phase_of(r) == Some(RolloutPhase::Healthy)
                    && r.status.as_ref().and_then(|s| s.stable_rs.clone())
                        == r.status.as_ref().and_then(|s| s.current_pod_hash.clone())
            },
        )
        .await;
    let status = done.status.unwrap();
    let hash = status.current_pod_hash.clone().unwrap();
    let runs: kube::Api<crds::AnalysisRun> = kube::Api::namespaced(cluster.client.clone(), "default");
    let names: Vec<_> = runs
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|r| (r.metadata.name, r.status.and_then(|s| s.phase)))
        .collect();
    let bg_status = status
        .blue_green
        .clone()
        .unwrap_or_else(|| panic!("{status:#?} {names:?}"));
    let pre = bg_status
        .pre_promotion_analysis_run_status
        .clone()
        .unwrap_or_else(|| panic!("{bg_status:#?} {names:?}"));
    let post = bg_status.post_promotion_analysis_run_status.unwrap();
    assert_eq!(pre.name, format!("bg-analysis-{hash}-2-pre"));
    assert_eq!(post.name, format!("bg-analysis-{hash}-2-post"));
    assert_eq!(pre.status, Some(crds::analysis::AnalysisPhase::Successful));
    assert_eq!(post.status, Some(crds::analysis::AnalysisPhase::Successful));
    let pre_run = runs.get(&pre.name).await.unwrap();
    let post_run = runs.get(&post.name).await.unwrap();
    assert_eq!(pre_run.metadata.labels.unwrap()["rollout-type"], "PrePromotion");
    assert_eq!(post_run.metadata.labels.unwrap()["rollout-type"], "PostPromotion");
    // Post-promotion analysis started only after the switch.
    let created = post_run.metadata.creation_timestamp.unwrap().0;
    let pre_done = pre_run.status.unwrap().completed_at.unwrap().0;
    assert!(
        created >= pre_done,
        "post-promotion at {created}, pre-promotion done at {pre_done}"
    );
    assert_eq!(
        bg.service_hash("bg-analysis-active").await.as_deref(),
        Some(hash.as_str())
    );
    bg.wait("the old version scaled down after its 2 s delay", WAIT, |_, sets| {
        sets.iter().filter(|s| s.image == "example/app:1").all(|s| s.spec == 0)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crash_looping_stable_version_does_not_block_a_healthy_canary() {
    let cluster = Cluster::start(None).await;
    let yaml =
        conformance("rollout-canary.yaml").replace("argoproj/rollouts-demo:blue", "argoproj/rollouts-demo:crash");
    cluster.apply(&yaml, "default").await;
    let canary = Probe::new(&cluster.client, "default", "rollout-canary");
    canary
        .wait("the first (crashing) version to be stable", WAIT, |r, _| {
            r.status
                .as_ref()
                .is_some_and(|s| s.stable_rs.is_some() && s.stable_rs == s.current_pod_hash)
        })
        .await;
    canary.set_image("argoproj/rollouts-demo:yellow").await;
    canary
        .wait("the first pause", WAIT, |r, _| {
            step_of(r) == Some(1) && phase_of(r) == Some(RolloutPhase::Paused)
        })
        .await;
    canary
        .patch_status(serde_json::json!({"status": {"promoteFull": true}}))
        .await;
    let done = canary.wait_phase(RolloutPhase::Healthy, WAIT).await;
    assert_eq!(
        done.status.as_ref().unwrap().stable_rs,
        done.status.as_ref().unwrap().current_pod_hash
    );
    assert_eq!(canary.counts_of("argoproj/rollouts-demo:yellow").await, (5, 5));
    assert_eq!(canary.counts_of("argoproj/rollouts-demo:crash").await.0, 0);
}

/// Reasons of the Events published about an object.
async fn event_reasons(client: &kube::Client, name: &str) -> Vec<String> {
    let api: kube::Api<k8s_openapi::api::events::v1::Event> = kube::Api::namespaced(client.clone(), "default");
    api.list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name))
        .filter_map(|e| e.reason)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rollout_of_another_controller_instance_is_left_alone() {
    let cluster = Cluster::start(None).await;
    let yaml = conformance("rollout-basic.yaml").replace(
        "  name: basic\n",
        "  name: basic\n  labels:\n    argo-rollouts.argoproj.io/controller-instance-id: other\n",
    );
    assert!(yaml.contains("controller-instance-id"));
    cluster.apply(&yaml, "default").await;
    // The positive control, in the same window: an unlabelled Rollout is handled to Healthy.
    let mine = conformance("rollout-basic.yaml").replace("  name: basic\n", "  name: mine\n");
    cluster.apply(&mine, "default").await;
    Probe::new(&cluster.client, "default", "mine")
        .wait_phase(RolloutPhase::Healthy, WAIT)
        .await;
    let basic = Probe::new(&cluster.client, "default", "basic");
    assert_eq!(basic.get().await.status, None);
    assert!(basic.replicasets().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn retry_after_an_abort_runs_the_steps_again() {
    let cluster = Cluster::start(None).await;
    cluster.apply(&conformance("rollout-basic.yaml"), "default").await;
    let basic = Probe::new(&cluster.client, "default", "basic");
    basic.wait_phase(RolloutPhase::Healthy, WAIT).await;
    basic.set_image("nginx:1.20-alpine").await;
    basic.wait_phase(RolloutPhase::Paused, WAIT).await;
    basic.abort().await;
    let aborted = basic.wait_phase(RolloutPhase::Degraded, WAIT).await;
    assert_eq!(
        aborted.status.unwrap().message.as_deref(),
        Some("RolloutAborted: Rollout aborted update to revision 2")
    );
    basic
        .wait("the canary scaled away", WAIT, |_, sets| {
            sets.iter().any(|s| s.image == "nginx:1.20-alpine" && s.spec == 0)
        })
        .await;
    basic.retry().await;
    let again = basic.wait_phase(RolloutPhase::Paused, WAIT).await;
    assert_eq!(step_of(&again), Some(1));
    assert_eq!(basic.counts_of("nginx:1.20-alpine").await, (1, 1));
}

#[tokio::test(flavor = "multi_thread")]
async fn restart_recreates_every_pod_through_evictions() {
    let cluster = Cluster::start(None).await;
    cluster
        .apply(
            &conformance("rollout-basic.yaml").replace("  strategy:\n", "  replicas: 2\n  strategy:\n"),
            "default",
        )
        .await;
    let basic = Probe::new(&cluster.client, "default", "basic");
    basic.wait_phase(RolloutPhase::Healthy, WAIT).await;
    let pods: kube::Api<k8s_openapi::api::core::v1::Pod> = kube::Api::namespaced(cluster.client.clone(), "default");
    let before: Vec<String> = pods
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|p| p.metadata.name)
        .collect();
    assert_eq!(before.len(), 2);
    let at = crds::clock::system().now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    basic.patch(serde_json::json!({"spec": {"restartAt": at}})).await;
    basic
        .wait("the restart to be recorded", WAIT, |r, _| {
            r.status
                .as_ref()
                .and_then(|s| s.restarted_at.as_ref())
                .map(|t| t.0.to_string())
                == Some(at.clone())
        })
        .await;
    let after: Vec<String> = pods
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter_map(|p| p.metadata.name)
        .collect();
    assert!(after.iter().all(|p| !before.contains(p)), "{before:?} -> {after:?}");
    basic.wait_phase(RolloutPhase::Healthy, WAIT).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_name_taken_by_a_foreign_replicaset_bumps_the_collision_count() {
    let cluster = Cluster::start(None).await;
    let yaml = conformance("rollout-basic.yaml");
    let rollout: crds::Rollout = crds::yaml::from_str(&yaml).unwrap();
    let hash = controller::rollout::identity::desired_hash(&rollout);
    let squatter = format!(
        "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: basic-{hash}\nspec:\n  replicas: 0\n  selector:\n    matchLabels: {{app: squatter}}\n  template:\n    metadata:\n      labels: {{app: squatter}}\n    spec:\n      containers: [{{name: x, image: other:1}}]\n"
    );
    cluster.apply(&squatter, "default").await;
    cluster.apply(&yaml, "default").await;
    let basic = Probe::new(&cluster.client, "default", "basic");
    let healthy = basic.wait_phase(RolloutPhase::Healthy, WAIT).await;
    let status = healthy.status.unwrap();
    assert_eq!(status.collision_count, Some(1));
    assert_ne!(status.current_pod_hash.as_deref(), Some(hash.as_str()));
    assert_eq!(basic.counts_of("nginx:1.19-alpine").await, (1, 1));
}
