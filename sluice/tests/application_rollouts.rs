//! A Rollout managed by an Application, end to end: while the canary is paused at a step the
//! Application is Suspended, later waves are still synced (Sluice's rule; Argo CD blocks them),
//! and the PostSync hook waits until the Rollout is fully promoted.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use kube::api::{Patch, PatchParams};
use serde_json::json;
use support::gitops::{dynamic, get, states, until, until_app};

fn rollout(image: &str) -> String {
    format!(
        "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: api\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {{app: api}}\n  template:\n    metadata:\n      labels: {{app: api}}\n      annotations: {{sim.sluice.dev/start-delay: 100ms}}\n    spec:\n      containers:\n      - name: api\n        image: {image}\n  strategy:\n    canary:\n      steps:\n      - setWeight: 50\n      - pause: {{}}\n"
    )
}

fn config(version: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: after-api\n  annotations:\n    argocd.argoproj.io/sync-wave: \"1\"\ndata:\n  version: \"{version}\"\n"
    )
}

const SMOKE: &str = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: smoke-\n  annotations:\n    argocd.argoproj.io/hook: PostSync\nspec:\n  template:\n    metadata:\n      annotations: {sim.sluice.dev/start-delay: 100ms}\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: smoke\n        image: smoke:1\n";

async fn smoke_jobs(client: &kube::Client) -> usize {
    let api = dynamic(
        client,
        &json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"namespace": "default"}}),
    )
    .await;
    api.list(&Default::default())
        .await
        .unwrap()
        .items
        .iter()
        .filter(|j| j.metadata.name.as_deref().is_some_and(|n| n.starts_with("smoke-")))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_canary_lets_later_waves_sync_and_holds_postsync_until_promoted() {
    let world = support::scenario::Scenario::start(
        "apps",
        &[
            ("api/rollout.yaml", &rollout("api:1")),
            ("api/config.yaml", &config("1")),
            ("api/smoke.yaml", SMOKE),
        ],
        &[],
    )
    .await;
    let (client, repo) = (world.client.clone(), &world.repo);
    world
        .application("api", "api", json!({"automated": {"prune": true}}))
        .await;
    until_app(
        &client,
        "api",
        "the first deploy (no steps)",
        Duration::from_secs(60),
        |a| states(a) == ("Synced".into(), "Healthy".into(), "Succeeded".into()),
    )
    .await;
    assert_eq!(smoke_jobs(&client).await, 1);

    let second = repo.commit(
        &[
            ("api/rollout.yaml", &rollout("api:2")),
            ("api/config.yaml", &config("2")),
        ],
        "api 2",
    );
    let paused = until_app(&client, "api", "the canary to pause", Duration::from_secs(60), |a| {
        a["status"]["sync"]["revision"] == second.as_str() && states(a).1 == "Suspended"
    })
    .await;
    until(
        "wave 1 to be synced while the canary is paused",
        Duration::from_secs(30),
        || async { get(&client, "v1", "ConfigMap", "default", "after-api").await.unwrap()["data"]["version"] == "2" },
    )
    .await;
    let waiting = until_app(
        &client,
        "api",
        "PostSync to wait for the promotion",
        Duration::from_secs(30),
        |a| {
            a["status"]["operationState"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("fully promoted"))
        },
    )
    .await;
    assert_eq!(states(&waiting).2, "Running");
    assert_eq!(
        smoke_jobs(&client).await,
        1,
        "no PostSync hook while the canary is at 50%: {paused}"
    );

    let rollouts = dynamic(
        &client,
        &json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"namespace": "default"}}),
    )
    .await;
    rollouts
        .patch_status(
            "api",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"pauseConditions": null}})),
        )
        .await
        .unwrap();
    until_app(
        &client,
        "api",
        "the sync to finish after the promotion",
        Duration::from_secs(60),
        |a| states(a) == ("Synced".into(), "Healthy".into(), "Succeeded".into()),
    )
    .await;
    assert_eq!(
        smoke_jobs(&client).await,
        2,
        "the PostSync hook ran once the Rollout was fully promoted"
    );
}
