//! The Rollout features the README lists, each end to end over HTTP (the controllers against the
//! simulated API server, pods run by the workload simulator), so the real writes are checked and
//! not only the pure decision: the progress deadline with and without `progressDeadlineAbort`,
//! `rollbackWindow`, revision-history deletion, background analysis from `startingStep`,
//! blue-green `previewReplicaCount` and `autoPromotionSeconds`, a failing pre-promotion analysis,
//! the pause after a passing one, a failing post-promotion analysis, an Inconclusive run, an
//! InvalidSpec, adopting a ReplicaSet made by someone else, the resourceVersion guard under
//! concurrent writes, and the positive `--instance-id` case.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use crds::analysis::AnalysisPhase;
use crds::rollout::RolloutPhase;
use k8s_openapi::api::apps::v1::ReplicaSet;
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use tests::cluster::Cluster;
use tests::rollouts::{Probe, phase_of, step_of};

const NS: &str = "default";
const WAIT: Duration = Duration::from_secs(60);

fn template(name: &str, image: &str) -> Value {
    json!({"metadata": {"labels": {"app": name}, "annotations": {"sim.sluice.dev/start-delay": "100ms"}},
           "spec": {"containers": [{"name": "app", "image": image}]}})
}

/// A Rollout named `name` running `image`, with `spec` merged over the basics.
fn rollout(name: &str, image: &str, spec: &Value) -> String {
    let mut object = json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": name},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}}, "template": template(name, image)},
    });
    if let (Some(base), Some(extra)) = (object["spec"].as_object_mut(), spec.as_object()) {
        for (k, v) in extra {
            base.insert(k.clone(), v.clone());
        }
    }
    object.to_string()
}

fn service(name: &str, app: &str) -> String {
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
           "spec": {"selector": {"app": app}, "ports": [{"port": 80}]}})
    .to_string()
}

/// An AnalysisTemplate whose one Job metric runs `image` (a `fail` tag exits 1) for `delay`.
fn job_template(name: &str, image: &str, delay: &str) -> String {
    json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate", "metadata": {"name": name},
           "spec": {"metrics": [{"name": "check", "provider": {"job": {"spec": {"backoffLimit": 0, "template": {
               "metadata": {"annotations": {"sim.sluice.dev/start-delay": delay}},
               "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": image}]}}}}}}]}})
    .to_string()
}

fn message(r: &crds::Rollout) -> String {
    r.status.as_ref().and_then(|s| s.message.clone()).unwrap_or_default()
}

fn stable_is_current(r: &crds::Rollout) -> bool {
    r.status
        .as_ref()
        .is_some_and(|s| s.stable_rs.is_some() && s.stable_rs == s.current_pod_hash)
}

async fn healthy(cluster: &Cluster, yaml: &str, name: &str) -> Probe {
    cluster.apply(yaml, NS).await;
    let probe = Probe::new(&cluster.client, NS, name);
    probe.wait_phase(RolloutPhase::Healthy, WAIT).await;
    probe
}

#[tokio::test(flavor = "multi_thread")]
async fn the_progress_deadline_degrades_and_aborts_only_when_asked() {
    let cluster = Cluster::start(None).await;
    let steps = json!({"canary": {"steps": [{"setWeight": 50}, {"pause": {}}]}});
    let mut probes = Vec::new();
    for (name, abort) in [("keep", false), ("back", true)] {
        let spec = json!({"progressDeadlineSeconds": 2, "progressDeadlineAbort": abort, "strategy": steps});
        probes.push((healthy(&cluster, &rollout(name, "web:1", &spec), name).await, abort));
    }
    for (probe, _) in &probes {
        probe.set_image("web:2-crash").await;
    }
    for (probe, abort) in &probes {
        // As in Argo, the deadline is written first (ProgressDeadlineExceeded, with `abort` set
        // when `progressDeadlineAbort` asks for it) and the abort on the next reconcile: wait for
        // where each ends.
        let expected = if *abort {
            "RolloutAborted"
        } else {
            "ProgressDeadlineExceeded"
        };
        let reason = |r: &crds::Rollout| {
            r.status
                .as_ref()
                .and_then(|s| s.conditions.iter().find(|c| c.type_ == "Progressing"))
                .and_then(|c| c.reason.clone())
        };
        let degraded = probe
            .wait(&format!("Degraded, {expected}"), WAIT, |r, _| {
                phase_of(r) == Some(RolloutPhase::Degraded) && reason(r).as_deref() == Some(expected)
            })
            .await;
        assert_eq!(reason(&degraded).as_deref(), Some(expected));
        assert_eq!(
            degraded.status.as_ref().and_then(|s| s.abort) == Some(true),
            *abort,
            "aborted only when asked"
        );
        let name = degraded.metadata.name.clone().unwrap_or_default();
        let events: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(cluster.client.clone(), NS);
        let reasons: Vec<String> = events
            .list(&Default::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name.as_str()))
            .filter_map(|e| e.reason)
            .collect();
        assert!(
            reasons.iter().any(|r| r == "ProgressDeadlineExceeded"),
            "{name}: {reasons:?}"
        );
        assert!(
            message(&degraded).starts_with(if *abort {
                "RolloutAborted"
            } else {
                "ProgressDeadlineExceeded: ReplicaSet"
            }),
            "{}",
            message(&degraded)
        );
        let aborted = degraded.status.as_ref().and_then(|s| s.abort) == Some(true);
        assert_eq!(aborted, *abort);
        let canary = probe
            .wait("the canary as the deadline left it", WAIT, |_, sets| {
                sets.iter().any(|s| s.image == "web:2-crash" && (s.spec == 0) == *abort)
            })
            .await;
        assert!(!stable_is_current(&canary), "the crashing version never becomes stable");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rollback_within_the_window_is_fast_tracked_and_old_history_is_deleted() {
    let cluster = Cluster::start(None).await;
    let spec = json!({"rollbackWindow": {"revisions": 2}, "revisionHistoryLimit": 1,
                      "strategy": {"canary": {"steps": [{"setWeight": 50}, {"pause": {}}]}}});
    let web = healthy(&cluster, &rollout("web", "web:1", &spec), "web").await;
    for image in ["web:2", "web:3"] {
        web.set_image(image).await;
        web.wait_phase(RolloutPhase::Paused, WAIT).await;
        web.promote().await;
        web.wait("the new version stable", WAIT, |r, _| {
            stable_is_current(r) && phase_of(r) == Some(RolloutPhase::Healthy)
        })
        .await;
    }
    // revisionHistoryLimit 1: web:1's ReplicaSet is gone, web:2's kept.
    let sets = web
        .wait("the oldest revision deleted", WAIT, |_, sets| {
            !sets.iter().any(|s| s.image == "web:1")
        })
        .await;
    let _ = sets;
    let images: Vec<String> = web.replicasets().await.iter().map(|s| s.image.clone()).collect();
    assert_eq!(images.len(), 2, "{images:?}");
    // Back to web:2, one revision behind: no steps, no pause.
    web.set_image("web:2").await;
    let back = web
        .wait("web:2 stable again", WAIT, |r, _| {
            stable_is_current(r) && phase_of(r) == Some(RolloutPhase::Healthy)
        })
        .await;
    let status = back.status.unwrap();
    assert!(status.pause_conditions.is_empty());
    assert_eq!(status.current_step_index, Some(2), "every step skipped");
    assert_eq!(web.counts_of("web:2").await, (2, 2));
}

#[tokio::test(flavor = "multi_thread")]
async fn background_analysis_starts_at_its_step_and_ends_with_the_update() {
    let cluster = Cluster::start(None).await;
    cluster.apply(&job_template("slow", "check:1", "1h"), NS).await;
    let spec = json!({"strategy": {"canary": {
        "steps": [{"setWeight": 50}, {"pause": {}}, {"setWeight": 50}, {"pause": {}}],
        "analysis": {"templates": [{"templateName": "slow"}], "startingStep": 2}}}});
    let web = healthy(&cluster, &rollout("web", "web:1", &spec), "web").await;
    web.set_image("web:2").await;
    web.wait("the first pause", WAIT, |r, _| step_of(r) == Some(1)).await;
    let runs: Api<crds::AnalysisRun> = Api::namespaced(cluster.client.clone(), NS);
    assert!(
        runs.list(&Default::default()).await.unwrap().items.is_empty(),
        "not before step 2"
    );
    web.promote().await;
    let at_two = web.wait("the second pause", WAIT, |r, _| step_of(r) == Some(3)).await;
    let hash = at_two.status.as_ref().unwrap().current_pod_hash.clone().unwrap();
    let run = runs.get(&format!("web-{hash}-2")).await.unwrap();
    assert_eq!(run.metadata.labels.unwrap()["rollout-type"], "Background");
    web.promote().await;
    web.wait_phase(RolloutPhase::Healthy, WAIT).await;
    let done = cluster.completed_run(NS, &format!("web-{hash}-2"), WAIT).await;
    assert_eq!(done.spec.terminate, Some(true), "terminated with the update");
    assert_eq!(done.status.unwrap().message.as_deref(), Some("Run Terminated"));
}

#[tokio::test(flavor = "multi_thread")]
async fn blue_green_previews_small_then_promotes_itself_after_auto_promotion_seconds() {
    let cluster = Cluster::start(None).await;
    cluster.apply(&service("bg-active", "bg"), NS).await;
    cluster.apply(&service("bg-preview", "bg"), NS).await;
    let spec = json!({"replicas": 3, "strategy": {"blueGreen": {"activeService": "bg-active", "previewService": "bg-preview",
        "previewReplicaCount": 1, "autoPromotionSeconds": 3, "scaleDownDelaySeconds": 1}}});
    let bg = healthy(&cluster, &rollout("bg", "bg:1", &spec), "bg").await;
    let blue = bg.get().await.status.unwrap().stable_rs.unwrap();
    bg.set_image("bg:2").await;
    let paused = bg.wait_phase(RolloutPhase::Paused, WAIT).await;
    let green = paused.status.as_ref().unwrap().current_pod_hash.clone().unwrap();
    assert_eq!(bg.counts_of("bg:2").await, (1, 1), "previewReplicaCount");
    assert_eq!(bg.service_hash("bg-active").await.as_deref(), Some(blue.as_str()));
    assert_eq!(bg.service_hash("bg-preview").await.as_deref(), Some(green.as_str()));
    // Nobody promotes: after 3 s the preview goes full size, then the switch.
    let done = bg
        .wait("the automatic promotion", WAIT, |r, _| {
            stable_is_current(r) && phase_of(r) == Some(RolloutPhase::Healthy)
        })
        .await;
    assert_eq!(done.status.unwrap().stable_rs.as_deref(), Some(green.as_str()));
    assert_eq!(bg.service_hash("bg-active").await.as_deref(), Some(green.as_str()));
    assert_eq!(bg.counts_of("bg:2").await, (3, 3));
}

async fn blue_green_with_analysis(cluster: &Cluster, pre: &str, post: &str) -> (Probe, String) {
    cluster.apply(&job_template("pre", pre, "100ms"), NS).await;
    cluster.apply(&job_template("post", post, "100ms"), NS).await;
    cluster.apply(&service("bga-active", "bga"), NS).await;
    cluster.apply(&service("bga-preview", "bga"), NS).await;
    let spec = json!({"strategy": {"blueGreen": {"activeService": "bga-active", "previewService": "bga-preview",
        "autoPromotionEnabled": false, "scaleDownDelaySeconds": 1,
        "prePromotionAnalysis": {"templates": [{"templateName": "pre"}]},
        "postPromotionAnalysis": {"templates": [{"templateName": "post"}]}}}});
    let bg = healthy(cluster, &rollout("bga", "bga:1", &spec), "bga").await;
    let blue = bg.get().await.status.unwrap().stable_rs.unwrap();
    bg.set_image("bga:2").await;
    (bg, blue)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_pre_promotion_analysis_never_switches() {
    let cluster = Cluster::start(None).await;
    let (bg, blue) = blue_green_with_analysis(&cluster, "check:1-fail", "check:1").await;
    let aborted = bg.wait_phase(RolloutPhase::Degraded, WAIT).await;
    assert_eq!(aborted.status.as_ref().unwrap().abort, Some(true));
    assert_eq!(aborted.status.unwrap().stable_rs.as_deref(), Some(blue.as_str()));
    assert_eq!(bg.service_hash("bga-active").await.as_deref(), Some(blue.as_str()));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_passing_pre_promotion_analysis_pauses_then_a_failing_post_promotion_one_switches_back() {
    let cluster = Cluster::start(None).await;
    let (bg, blue) = blue_green_with_analysis(&cluster, "check:1", "check:1-fail").await;
    // Pre-promotion passed: paused for a person (autoPromotionEnabled false), still on blue.
    let paused = bg
        .wait("the pause after pre-promotion analysis", WAIT, |r, _| {
            phase_of(r) == Some(RolloutPhase::Paused)
                && r.status
                    .as_ref()
                    .and_then(|s| s.blue_green.as_ref())
                    .and_then(|b| b.pre_promotion_analysis_run_status.as_ref())
                    .is_some_and(|p| p.status == Some(AnalysisPhase::Successful))
        })
        .await;
    let green = paused.status.as_ref().unwrap().current_pod_hash.clone().unwrap();
    assert_eq!(bg.service_hash("bga-active").await.as_deref(), Some(blue.as_str()));
    bg.promote().await;
    // The switch, then the post-promotion analysis fails: the active Service goes back to blue.
    let aborted = bg.wait_phase(RolloutPhase::Degraded, WAIT).await;
    assert_eq!(aborted.status.as_ref().unwrap().abort, Some(true));
    let runs: Api<crds::AnalysisRun> = Api::namespaced(cluster.client.clone(), NS);
    let post = runs.get(&format!("bga-{green}-2-post")).await.unwrap();
    assert_eq!(post.status.unwrap().phase, Some(AnalysisPhase::Failed));
    tests::wait::until_state(
        "the active Service back on blue",
        WAIT,
        Duration::from_millis(100),
        || bg.service_hash("bga-active"),
        |seen| seen.as_deref() == Some(blue.as_str()),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_inconclusive_run_pauses_and_an_invalid_spec_creates_nothing() {
    let endpoint = tests::recorder::Recorder::start("Bearer t");
    let cluster = Cluster::start(None).await;
    // The endpoint answers rate 0.99: neither above 0.995 nor below 0.5, so Inconclusive.
    let judged = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate", "metadata": {"name": "judged"},
        "spec": {"metrics": [{"name": "rate", "successCondition": "result > 0.995", "failureCondition": "result < 0.5",
            "provider": {"web": {"url": format!("{}/web/rate", endpoint.url()), "jsonPath": "{$.rate}",
                "headers": [{"key": "Authorization", "value": "Bearer t"}]}}}]}});
    cluster.apply(&judged.to_string(), NS).await;
    let spec = json!({"strategy": {"canary": {"steps": [{"setWeight": 50}, {"analysis": {"templates": [{"templateName": "judged"}]}}]}}});
    let web = healthy(&cluster, &rollout("web", "web:1", &spec), "web").await;
    web.set_image("web:2").await;
    let paused = web
        .wait("the pause for the inconclusive run", WAIT, |r, _| {
            phase_of(r) == Some(RolloutPhase::Paused)
        })
        .await;
    let status = paused.status.unwrap();
    assert_eq!(
        status.pause_conditions[0].reason,
        crds::rollout::PauseReason::InconclusiveAnalysisRun
    );
    assert_eq!(status.abort, None, "not aborted");

    let bad = json!({"strategy": {"canary": {"steps": [{"experiment": {"templates": []}}]}}});
    cluster.apply(&rollout("odd", "odd:1", &bad), NS).await;
    let odd = Probe::new(&cluster.client, NS, "odd");
    let invalid = odd.wait_phase(RolloutPhase::Degraded, WAIT).await;
    let said = message(&invalid);
    assert!(
        said.starts_with("InvalidSpec: The Rollout \"odd\" is invalid: ")
            && said.contains("spec.strategy.canary.steps[0].experiment: not supported yet"),
        "{said}"
    );
    assert!(odd.replicasets().await.is_empty(), "nothing half-applied");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replicaset_made_by_someone_else_is_adopted_and_services_are_marked_managed() {
    let cluster = Cluster::start(None).await;
    let sets: Api<ReplicaSet> = Api::namespaced(cluster.client.clone(), NS);
    // What Argo Rollouts leaves behind when its Rollout is deleted with `--cascade=orphan`: a hash
    // this controller would never compute, the same template, no owner.
    let mut pods = template("web", "web:1");
    pods["metadata"]["labels"]["rollouts-pod-template-hash"] = json!("674d8cf959");
    let foreign: ReplicaSet = serde_json::from_value(json!({
        "metadata": {"name": "web-674d8cf959", "labels": {"app": "web", "rollouts-pod-template-hash": "674d8cf959"}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web", "rollouts-pod-template-hash": "674d8cf959"}}, "template": pods},
    }))
    .unwrap();
    sets.create(&PostParams::default(), &foreign).await.unwrap();
    cluster.apply(&service("web-stable", "web"), NS).await;
    cluster.apply(&service("web-canary", "web"), NS).await;
    let spec = json!({"strategy": {"canary": {"stableService": "web-stable", "canaryService": "web-canary", "steps": [{"setWeight": 50}]}}});
    let web = healthy(&cluster, &rollout("web", "web:1", &spec), "web").await;
    let all = sets.list(&Default::default()).await.unwrap().items;
    assert_eq!(all.len(), 1, "adopted, not duplicated");
    let owner = all[0].metadata.owner_references.clone().unwrap_or_default();
    assert_eq!(owner.first().map(|o| o.kind.as_str()), Some("Rollout"));
    assert_eq!(all[0].metadata.name.as_deref(), Some("web-674d8cf959"));
    assert_eq!(web.get().await.status.unwrap().stable_rs.as_deref(), Some("674d8cf959"));
    let services: Api<k8s_openapi::api::core::v1::Service> = Api::namespaced(cluster.client.clone(), NS);
    for name in ["web-stable", "web-canary"] {
        let annotations = services
            .get(name)
            .await
            .unwrap()
            .metadata
            .annotations
            .unwrap_or_default();
        assert_eq!(
            annotations.get(crds::keys::MANAGED_BY_ANNOTATION).map(String::as_str),
            Some("web"),
            "{name}"
        );
        assert_eq!(web.service_hash(name).await.as_deref(), Some("674d8cf959"));
    }
}

/// Someone keeps writing the Rollout (a label, every few milliseconds) through an update: the
/// controller's status writes meet newer resourceVersions and fail with 409, the reconcile is
/// retried on fresh state, and the update still walks every step once.
#[tokio::test(flavor = "multi_thread")]
async fn status_writes_guarded_by_resource_version_survive_concurrent_writers() {
    let cluster = Cluster::start(None).await;
    let spec = json!({"strategy": {"canary": {"steps": [{"setWeight": 50}, {"pause": {"duration": "1s"}}, {"setWeight": 50}]}}});
    let web = healthy(&cluster, &rollout("web", "web:1", &spec), "web").await;
    let rollouts: Api<crds::Rollout> = Api::namespaced(cluster.client.clone(), NS);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let churn = {
        let (rollouts, stop) = (rollouts.clone(), stop.clone());
        tokio::spawn(async move {
            let mut n = 0_u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                n += 1;
                let label = json!({"metadata": {"labels": {"churn": n.to_string()}}});
                let _ = rollouts
                    .patch("web", &PatchParams::default(), &Patch::Merge(&label))
                    .await;
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
    };
    web.set_image("web:2").await;
    let done = web
        .wait("the update done", WAIT, |r, _| {
            stable_is_current(r) && phase_of(r) == Some(RolloutPhase::Healthy)
        })
        .await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    churn.await.unwrap();
    assert_eq!(step_of(&done), Some(3));
    assert_eq!(web.counts_of("web:2").await, (2, 2));
    let conflicts = cluster.metrics.render();
    assert!(
        conflicts
            .lines()
            .any(|l| l.starts_with("sluice_reconcile_failures_total") && l.contains("conflict") && !l.ends_with(" 0")),
        "the guard was hit: {conflicts}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_instance_handles_the_rollouts_labelled_with_its_id_only() {
    let scope = controller::scope::Scope {
        namespace: None,
        instance_id: Some("blue".into()),
    };
    let cluster = Cluster::start_scoped(None, None, scope).await;
    let labelled = rollout("mine", "web:1", &json!({"strategy": {"canary": {"steps": []}}})).replace(
        "\"metadata\":{\"name\":\"mine\"}",
        "\"metadata\":{\"name\":\"mine\",\"labels\":{\"argo-rollouts.argoproj.io/controller-instance-id\":\"blue\"}}",
    );
    assert!(labelled.contains("controller-instance-id"));
    cluster
        .apply(
            &rollout("theirs", "web:1", &json!({"strategy": {"canary": {"steps": []}}})),
            NS,
        )
        .await;
    // The labelled one, applied after, gets Healthy: the unlabelled one had the same time.
    healthy(&cluster, &labelled, "mine").await;
    let theirs = Probe::new(&cluster.client, NS, "theirs");
    assert_eq!(theirs.get().await.status, None);
}
