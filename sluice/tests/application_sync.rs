//! Sync operations end to end (controller process, simulator, `git daemon`): phases, waves and
//! hooks in order; a failing PreSync hook; a manual sync through the `operation` field; the
//! resources finalizer; retries, and a newer commit overtaking a failing one; syncs recorded once
//! while someone else keeps writing the Application.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use kube::api::{Patch, PatchParams};
use serde_json::{Value, json};
use support::SimProcess;
use support::gitops::{ControllerProcess, app, apply, cluster, dynamic, get, states, until, until_app};
use tests::git::{GitDaemon, GitRepo};

const FAST: &str = "sim.sluice.dev/start-delay: 100ms";

fn job(name_field: &str, hook: &str, policy: &str, image: &str) -> String {
    format!(
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  {name_field}\n  annotations:\n    argocd.argoproj.io/hook: {hook}\n    argocd.argoproj.io/hook-delete-policy: {policy}\nspec:\n  template:\n    metadata:\n      annotations: {{{FAST}}}\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: run\n        image: {image}\n"
    )
}

fn configmap(name: &str, wave: i64) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  annotations:\n    argocd.argoproj.io/sync-wave: \"{wave}\"\ndata:\n  k: v\n"
    )
}

fn deployment(wave: i64) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  annotations:\n    argocd.argoproj.io/sync-wave: \"{wave}\"\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {{app: web}}\n  template:\n    metadata:\n      labels: {{app: web}}\n      annotations: {{{FAST}}}\n    spec:\n      containers:\n      - name: web\n        image: web:1\n"
    )
}

fn application(name: &str, url: &str, path: &str, policy: Value) -> Value {
    json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": name, "namespace": "argocd"},
        "spec": {
            "source": {"repoURL": url, "path": path, "targetRevision": "main"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "default"},
            "syncPolicy": policy,
        }
    })
}

struct World {
    sim: SimProcess,
    client: kube::Client,
    repo: GitRepo,
    daemon: GitDaemon,
    _controller: ControllerProcess,
}

async fn world() -> World {
    let (sim, client) = cluster().await;
    let served = sim.dir.path().join("git");
    std::fs::create_dir_all(&served).unwrap();
    let repo = GitRepo::create(&served, "apps");
    let daemon = GitDaemon::start(&served);
    let controller = ControllerProcess::start(&sim, &[]);
    World {
        sim,
        client,
        repo,
        daemon,
        _controller: controller,
    }
}

fn results(app: &Value) -> Vec<(String, String, String)> {
    app["status"]["operationState"]["syncResult"]["resources"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
            (s("syncPhase"), s("kind"), s("name"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phases_waves_and_hooks_run_in_order() {
    let w = world().await;
    w.repo.commit(
        &[
            (
                "app/presync.yaml",
                &job("name: migrate", "PreSync", "HookSucceeded", "migrate:1"),
            ),
            ("app/config.yaml", &configmap("config", -1)),
            ("app/web.yaml", &deployment(1)),
            (
                "app/postsync.yaml",
                &job("generateName: smoke-", "PostSync", "BeforeHookCreation", "smoke:1"),
            ),
        ],
        "waves and hooks",
    );
    apply(
        &w.client,
        &application("ordered", &w.daemon.url("apps"), "app", json!({"automated": {}})),
    )
    .await;
    let done = until_app(&w.client, "ordered", "the sync", Duration::from_secs(60), |a| {
        states(a).2 == "Succeeded"
    })
    .await;
    let order = results(&done);
    assert_eq!(
        order.iter().map(|(p, k, _)| format!("{p} {k}")).collect::<Vec<_>>(),
        ["PreSync Job", "Sync ConfigMap", "Sync Deployment", "PostSync Job"],
        "{order:?}"
    );
    let smoke = &order[3].2;
    assert!(
        smoke.starts_with("smoke-") && smoke.len() > "smoke-".len(),
        "generateName hook: {smoke}"
    );
    for r in done["status"]["operationState"]["syncResult"]["resources"]
        .as_array()
        .unwrap()
    {
        if r["hookType"].is_string() {
            assert_eq!(r["hookPhase"], "Succeeded", "{r}");
        }
    }
    until(
        "the PreSync hook to be deleted (HookSucceeded)",
        Duration::from_secs(20),
        || async { get(&w.client, "batch/v1", "Job", "default", "migrate").await.is_none() },
    )
    .await;
    assert!(
        get(&w.client, "batch/v1", "Job", "default", smoke).await.is_some(),
        "BeforeHookCreation keeps it"
    );
    assert_eq!(states(&done).0, "Synced", "hooks never make an app OutOfSync");
    drop(w.sim);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_presync_hook_stops_the_sync_and_runs_syncfail() {
    let w = world().await;
    w.repo.commit(
        &[
            (
                "app/presync.yaml",
                &job("name: migrate", "PreSync", "BeforeHookCreation", "migrate:1-fail"),
            ),
            (
                "app/syncfail.yaml",
                &job("name: page-someone", "SyncFail", "BeforeHookCreation", "pager:1"),
            ),
            ("app/config.yaml", &configmap("config", 0)),
        ],
        "a migration that fails",
    );
    apply(
        &w.client,
        &application("failing", &w.daemon.url("apps"), "app", json!({"automated": {}})),
    )
    .await;
    let failed = until_app(&w.client, "failing", "the sync to fail", Duration::from_secs(60), |a| {
        states(a).2 == "Failed"
    })
    .await;
    let message = failed["status"]["operationState"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("hook Job/migrate failed"), "{message}");
    assert!(
        get(&w.client, "v1", "ConfigMap", "default", "config").await.is_none(),
        "nothing of the Sync phase is applied"
    );
    until("the SyncFail hook", Duration::from_secs(20), || async {
        get(&w.client, "batch/v1", "Job", "default", "page-someone")
            .await
            .is_some()
    })
    .await;
    // One automatic attempt per revision: the failed sync is not repeated, even by a reconcile
    // that looks again.
    let later = support::gitops::refreshed(&w.client, "failing").await;
    assert_eq!(
        later["status"]["operationState"]["startedAt"],
        failed["status"]["operationState"]["startedAt"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manual_sync_prunes_and_the_finalizer_deletes_everything() {
    let w = world().await;
    w.repo.commit(
        &[("app/a.yaml", &configmap("a", 0)), ("app/b.yaml", &configmap("b", 0))],
        "two",
    );
    let mut manual = application("manual", &w.daemon.url("apps"), "app", json!({}));
    manual["metadata"]["finalizers"] = json!(["resources-finalizer.argocd.argoproj.io"]);
    apply(&w.client, &manual).await;
    until_app(
        &w.client,
        "manual",
        "OutOfSync without a sync",
        Duration::from_secs(30),
        |a| states(a).0 == "OutOfSync",
    )
    .await;
    assert!(
        get(&w.client, "v1", "ConfigMap", "default", "a").await.is_none(),
        "no automated policy: nothing applied"
    );

    let apps = dynamic(&w.client, &manual).await;
    let sync = json!({"operation": {"sync": {"prune": true}, "initiatedBy": {"username": "alice"}}});
    apps.patch("manual", &PatchParams::default(), &Patch::Merge(&sync))
        .await
        .unwrap();
    let synced = until_app(&w.client, "manual", "the manual sync", Duration::from_secs(30), |a| {
        states(a).0 == "Synced" && states(a).2 == "Succeeded"
    })
    .await;
    assert!(
        synced.get("operation").is_none_or(Value::is_null),
        "the operation field is cleared when it starts"
    );
    assert_eq!(
        synced["status"]["operationState"]["operation"]["initiatedBy"]["username"],
        "alice"
    );

    w.repo.commit(&[("app/b.yaml", "")], "drop b");
    until_app(
        &w.client,
        "manual",
        "b to require pruning",
        Duration::from_secs(30),
        |a| {
            a["status"]["resources"]
                .as_array()
                .is_some_and(|r| r.iter().any(|r| r["name"] == "b" && r["requiresPruning"] == true))
        },
    )
    .await;
    apps.patch("manual", &PatchParams::default(), &Patch::Merge(&sync))
        .await
        .unwrap();
    until("b to be pruned by the manual sync", Duration::from_secs(30), || async {
        get(&w.client, "v1", "ConfigMap", "default", "b").await.is_none()
    })
    .await;
    let after = until_app(
        &w.client,
        "manual",
        "Synced after the prune",
        Duration::from_secs(30),
        |a| states(a).0 == "Synced",
    )
    .await;
    assert_eq!(after["status"]["history"].as_array().map(Vec::len), Some(2));

    apps.delete("manual", &Default::default()).await.unwrap();
    until(
        "the finalizer to delete the resources and the Application",
        Duration::from_secs(30),
        || async {
            get(&w.client, "v1", "ConfigMap", "default", "a").await.is_none()
                && app(&w.client, "manual").await.is_null()
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_sync_is_retried_until_a_newer_commit_wins() {
    let w = world().await;
    let widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n";
    w.repo.commit(
        &[
            ("app/config.yaml", &configmap("config", 0)),
            ("app/widget.yaml", widget),
        ],
        "a kind nobody serves",
    );
    let policy = json!({"automated": {}, "retry": {"limit": 5, "backoff": {"duration": "1s", "factor": 1, "maxDuration": "1s"}}});
    apply(
        &w.client,
        &application("retrying", &w.daemon.url("apps"), "app", policy),
    )
    .await;
    let retrying = until_app(&w.client, "retrying", "two retries", Duration::from_secs(40), |a| {
        a["status"]["operationState"]["retryCount"].as_i64().unwrap_or(0) >= 2
    })
    .await;
    assert_eq!(states(&retrying).2, "Running", "a retrying operation stays Running");
    let message = retrying["status"]["operationState"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("does not serve Widget"), "{message}");
    let fixed = w.repo.commit(&[("app/widget.yaml", "")], "remove the widget");
    let done = until_app(
        &w.client,
        "retrying",
        "the newer commit to sync",
        Duration::from_secs(40),
        |a| states(a).2 == "Succeeded" && a["status"]["operationState"]["syncResult"]["revision"] == fixed.as_str(),
    )
    .await;
    assert_eq!(states(&done).0, "Synced");
}

/// Someone else writes the Applications all through their first sync (a label, every few
/// milliseconds), so the controller's writes keep meeting newer resourceVersions. Each sync is
/// still recorded, once: the intent is written before anything is applied, so a decision made on a
/// stale copy stops at the conflict instead of applying and losing the record of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syncs_under_concurrent_writes_to_the_application_are_recorded_once() {
    let w = world().await;
    let files: Vec<(String, String)> = (0..6)
        .map(|i| (format!("app/c{i}.yaml"), configmap(&format!("c{i}"), i % 3)))
        .collect();
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(p, c)| (p.as_str(), c.as_str())).collect();
    w.repo.commit(&borrowed, "six");
    let names: Vec<String> = (0..3).map(|i| format!("busy-{i}")).collect();
    let busy: Vec<Value> = names
        .iter()
        .map(|name| {
            let mut a = application(
                name,
                &w.daemon.url("apps"),
                "app",
                json!({"automated": {}, "syncOptions": ["CreateNamespace=true"]}),
            );
            a["spec"]["destination"]["namespace"] = json!(name);
            a
        })
        .collect();
    let apps = dynamic(&w.client, &busy[0]).await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let churn = {
        let (apps, stop, names) = (apps.clone(), stop.clone(), names.clone());
        tokio::spawn(async move {
            let mut n = 0_u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                n += 1;
                let label = json!({"metadata": {"labels": {"churn": n.to_string()}}});
                for name in &names {
                    let _ = apps.patch(name, &PatchParams::default(), &Patch::Merge(&label)).await;
                }
                tokio::time::sleep(Duration::from_millis(3)).await;
            }
            n
        })
    };
    for app in &busy {
        apply(&w.client, app).await;
    }
    for name in &names {
        let done = until_app(&w.client, name, "the sync recorded", Duration::from_secs(60), |a| {
            states(a) == ("Synced".into(), "Healthy".into(), "Succeeded".into())
        })
        .await;
        assert_eq!(
            done["status"]["history"].as_array().map(Vec::len),
            Some(1),
            "{}",
            done["status"]
        );
        assert_eq!(results(&done).len(), 6, "{name}: {:?}", results(&done));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let rounds = churn.await.unwrap();
    assert!(rounds > 10, "the Applications were written {rounds} times meanwhile");
}
