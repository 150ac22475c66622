//! The blue-green strategy: preview, pause, switch, delayed scale-down, analyses.

use super::*;

fn blue_green(extra: Value) -> World {
    let mut bg = json!({"activeService": "web-active", "previewService": "web-preview", "autoPromotionEnabled": false});
    for (k, v) in extra.as_object().unwrap() {
        bg[k] = v.clone();
    }
    let mut w = World::new(rollout(json!({"replicas": 3, "strategy": {"blueGreen": bg}})));
    w.settle();
    w
}

#[test]
fn blue_green_previews_pauses_switches_and_delays_the_old_scale_down() {
    let mut w = blue_green(json!({}));
    let blue = w.status().stable_rs.unwrap();
    assert_eq!(
        w.service_hash("web-active").as_deref(),
        Some(blue.as_str()),
        "first deploy switches at once"
    );
    w.set_image("web:2");
    w.settle();
    let green = w.hash_of_image("web:2");
    assert_eq!(w.service_hash("web-preview").as_deref(), Some(green.as_str()));
    assert_eq!(w.service_hash("web-active").as_deref(), Some(blue.as_str()));
    assert_eq!(w.phase(), (Some(RolloutPhase::Paused), "BlueGreenPause".into()));
    assert_eq!((w.counts("web:2"), w.counts("web:1")), ((3, 3), (3, 3)));
    w.patch_status(json!({"pauseConditions": null}));
    w.settle();
    assert_eq!(w.service_hash("web-active").as_deref(), Some(green.as_str()));
    assert_eq!(w.status().stable_rs.as_deref(), Some(green.as_str()));
    // The old active ReplicaSet waits 30 s, then goes.
    assert_eq!(w.counts("web:1"), (3, 3));
    let deadline = (t0() + SignedDuration::from_secs(30))
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let old = w
        .snap
        .replicasets
        .iter()
        .find(|rs| hash_of(rs) == Some(blue.as_str()))
        .unwrap();
    assert_eq!(
        old.metadata.annotations.as_ref().unwrap()["scale-down-deadline"],
        deadline
    );
    assert_eq!(decide(&w.snap).requeue_at, Some(t0() + SignedDuration::from_secs(30)));
    w.advance(30);
    w.settle();
    assert_eq!(w.counts("web:1"), (0, 0));
    assert_eq!(w.phase().0, Some(RolloutPhase::Healthy));
}

#[test]
fn blue_green_auto_promotion_seconds_resumes_by_itself() {
    let mut w = blue_green(json!({"autoPromotionEnabled": true, "autoPromotionSeconds": 20}));
    w.set_image("web:2");
    w.settle();
    assert_eq!(w.phase().0, Some(RolloutPhase::Paused));
    assert_eq!(decide(&w.snap).requeue_at, Some(t0() + SignedDuration::from_secs(20)));
    w.advance(20);
    w.settle();
    assert_eq!(
        w.service_hash("web-active").as_deref(),
        Some(w.hash_of_image("web:2").as_str())
    );
}

#[test]
fn blue_green_post_promotion_failure_aborts_the_active_service_back() {
    let bg = json!({"activeService": "web-active", "previewService": "web-preview", "postPromotionAnalysis": {"templates": [{"templateName": "rate"}]}});
    let mut w = World::new(rollout(json!({"replicas": 3, "strategy": {"blueGreen": bg}})));
    w.template(
        "rate",
        json!({"metrics": [{"name": "rate", "provider": {"web": {"url": "http://x"}}}]}),
    );
    w.settle();
    let blue = w.status().stable_rs.unwrap();
    w.set_image("web:2");
    w.settle();
    let green = w.hash_of_image("web:2");
    assert_eq!(w.service_hash("web-active").as_deref(), Some(green.as_str()));
    assert_eq!(
        w.phase(),
        (
            Some(RolloutPhase::Progressing),
            "waiting for analysis to complete".into()
        )
    );
    let post = format!("web-{green}-2-post");
    assert!(
        w.snap
            .runs
            .iter()
            .any(|r| r.metadata.name.as_deref() == Some(post.as_str()))
    );
    w.run_phase(&post, AnalysisPhase::Failed, "bad");
    w.settle();
    assert_eq!(w.service_hash("web-active").as_deref(), Some(blue.as_str()));
    assert_eq!(w.status().stable_rs.as_deref(), Some(blue.as_str()));
    assert_eq!(w.phase().0, Some(RolloutPhase::Degraded));
}

#[test]
fn blue_green_preview_replica_count_runs_a_small_preview_then_full_size_before_the_switch() {
    let mut w = blue_green(json!({"previewReplicaCount": 1}));
    w.set_image("web:2");
    w.settle();
    assert_eq!(w.counts("web:2"), (1, 1), "only the preview pods before promotion");
    assert_eq!(w.phase().0, Some(RolloutPhase::Paused));
    w.patch_status(json!({"pauseConditions": null}));
    w.settle();
    assert_eq!(w.counts("web:2"), (3, 3));
    assert_eq!(
        w.service_hash("web-active").as_deref(),
        Some(w.hash_of_image("web:2").as_str())
    );
    assert_eq!(w.phase().0, Some(RolloutPhase::Healthy));
}
