//! Applications end to end: a `sluice controller` process makes the simulated cluster follow real
//! Git repositories served by `git daemon` on loopback, as an Argo CD user's manifests ask.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use kube::api::{Patch, PatchParams};
use serde_json::json;
use support::gitops::{ControllerProcess, app, apply, cluster, dynamic, get, states, until, until_app};
use tests::git::{GitDaemon, GitRepo};

const CONFIGMAP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  color: blue\n";
const EXTRA: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata:\n  a: b\n";
const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: web:1.0\n";

fn application(name: &str, url: &str, path: &str, namespace: &str, policy: serde_json::Value) -> serde_json::Value {
    json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": name, "namespace": "argocd"},
        "spec": {
            "project": "default",
            "source": {"repoURL": url, "path": path, "targetRevision": "main"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace},
            "syncPolicy": policy,
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn automated_sync_prunes_and_self_heals_from_git_daemon() {
    let (sim, client) = cluster().await;
    let served = sim.dir.path().join("git");
    std::fs::create_dir_all(&served).unwrap();
    let repo = GitRepo::create(&served, "apps");
    let first = repo.commit(
        &[
            ("guestbook/settings.yaml", CONFIGMAP),
            ("guestbook/extra.yaml", EXTRA),
            ("guestbook/web.yaml", DEPLOYMENT),
        ],
        "guestbook",
    );
    let daemon = GitDaemon::start(&served);
    let controller = ControllerProcess::start(&sim, &[]);
    let policy = json!({"automated": {"prune": true, "selfHeal": true}, "syncOptions": ["CreateNamespace=true"]});
    apply(
        &client,
        &application("guestbook", &daemon.url("apps"), "guestbook", "guestbook", policy),
    )
    .await;

    let started = crds::clock::stopwatch();
    let synced = until_app(&client, "guestbook", "the first sync", Duration::from_secs(60), |a| {
        states(a) == ("Synced".into(), "Healthy".into(), "Succeeded".into())
    })
    .await;
    println!("first sync: {:?}", started.elapsed());
    assert_eq!(synced["status"]["sync"]["revision"], first);
    assert_eq!(synced["status"]["history"].as_array().map(Vec::len), Some(1));
    assert_eq!(synced["status"]["sourceType"], "Directory");
    let web = get(&client, "apps/v1", "Deployment", "guestbook", "web").await.unwrap();
    assert_eq!(
        web["metadata"]["annotations"]["argocd.argoproj.io/tracking-id"],
        "guestbook:apps/Deployment:guestbook/web"
    );
    assert!(
        get(&client, "v1", "Namespace", "", "guestbook").await.is_some(),
        "CreateNamespace=true"
    );

    // A commit that changes one file and deletes another: applied, and the deleted one pruned.
    let pushed = crds::clock::stopwatch();
    let second = repo.commit(
        &[
            ("guestbook/settings.yaml", &CONFIGMAP.replace("blue", "green")),
            ("guestbook/extra.yaml", ""),
        ],
        "green, no extra",
    );
    until_app(
        &client,
        "guestbook",
        "the second commit",
        Duration::from_secs(60),
        |a| a["status"]["sync"]["revision"] == second.as_str() && states(a).2 == "Succeeded" && states(a).0 == "Synced",
    )
    .await;
    println!("push to synced (1 s poll): {:?}", pushed.elapsed());
    let settings = get(&client, "v1", "ConfigMap", "guestbook", "settings").await.unwrap();
    assert_eq!(settings["data"]["color"], "green");
    until("the extra ConfigMap to be pruned", Duration::from_secs(20), || async {
        get(&client, "v1", "ConfigMap", "guestbook", "extra").await.is_none()
    })
    .await;

    // Someone edits a managed field: self-heal puts Git's value back.
    let edited = crds::clock::stopwatch();
    let api = dynamic(
        &client,
        &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"namespace": "guestbook"}}),
    )
    .await;
    api.patch("settings", &PatchParams::apply("kubectl-edit").force(), &Patch::Apply(json!({
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "guestbook"}, "data": {"color": "red"}
    })))
    .await
    .unwrap();
    until("self-heal to restore the color", Duration::from_secs(20), || async {
        get(&client, "v1", "ConfigMap", "guestbook", "settings").await.unwrap()["data"]["color"] == "green"
    })
    .await;
    println!("edit to healed: {:?}", edited.elapsed());
    let healed = app(&client, "guestbook").await;
    assert_eq!(states(&healed).0, "Synced");
    assert!(controller.metric("sluice_app_sync_total").await >= 3.0);
    drop(daemon);
}

fn github_signature(secret: &str, body: &[u8]) -> String {
    use hmac::{KeyInit as _, Mac as _};
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_push_webhook_refreshes_at_once_and_a_bad_signature_does_nothing() {
    let (sim, client) = cluster().await;
    let served = sim.dir.path().join("git");
    std::fs::create_dir_all(&served).unwrap();
    let repo = GitRepo::create(&served, "apps");
    repo.commit(&[("guestbook/settings.yaml", CONFIGMAP)], "blue");
    let daemon = GitDaemon::start(&served);
    // Polling is off (an hour): only the webhook can bring the new commit in.
    let controller = ControllerProcess::start(&sim, &["--repo-poll-interval", "1h"]);
    apply(
        &client,
        &json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "argocd-secret", "namespace": "argocd"},
            "stringData": {"webhook.github.secret": "hook-secret"},
        }),
    )
    .await;
    let policy = json!({"automated": {}});
    apply(
        &client,
        &application("hooked", &daemon.url("apps"), "guestbook", "default", policy),
    )
    .await;
    until_app(&client, "hooked", "the first sync", Duration::from_secs(60), |a| {
        states(a).2 == "Succeeded"
    })
    .await;

    let second = repo.commit(
        &[("guestbook/settings.yaml", &CONFIGMAP.replace("blue", "green"))],
        "green",
    );
    let body = json!({"ref": "refs/heads/main", "repository": {"clone_url": daemon.url("apps"), "html_url": "https://example.invalid/apps"}, "commits": [{"modified": ["guestbook/settings.yaml"]}]}).to_string();
    let url = format!("http://127.0.0.1:{}/api/webhook", controller.port);
    let http = reqwest::Client::new();
    let post = |signature: Option<String>| {
        let mut request = http
            .post(&url)
            .header("X-GitHub-Event", "push")
            .header("Content-Type", "application/json")
            .body(body.clone());
        if let Some(s) = signature {
            request = request.header("X-Hub-Signature-256", s);
        }
        request.send()
    };
    let forged = post(Some(github_signature("not-the-secret", body.as_bytes())))
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    let unsigned = post(None).await.unwrap();
    assert_eq!(unsigned.status(), 401);
    // The 401s are the evidence: the receiver checks the signature before it queues anything, so
    // these requests cannot have woken a fetch (the poller's interval is far longer than the test).
    assert_ne!(
        app(&client, "hooked").await["status"]["sync"]["revision"],
        second.as_str(),
        "a refused push changes nothing"
    );

    let pushed = crds::clock::stopwatch();
    let signed = post(Some(github_signature("hook-secret", body.as_bytes())))
        .await
        .unwrap();
    assert_eq!(signed.status(), 200);
    until_app(&client, "hooked", "the pushed commit", Duration::from_secs(20), |a| {
        a["status"]["sync"]["revision"] == second.as_str() && states(a).2 == "Succeeded"
    })
    .await;
    println!("signed push to synced: {:?}", pushed.elapsed());
    let settings = get(&client, "v1", "ConfigMap", "default", "settings").await.unwrap();
    assert_eq!(settings["data"]["color"], "green");
}
