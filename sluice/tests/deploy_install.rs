//! The install base `deploy/` on a cluster that checks RBAC: rendered by `kubectl kustomize`,
//! applied by an administrator, then the controller runs with exactly the Deployment's arguments
//! and the `sluice` ServiceAccount's token (from `kubectl create token`). It syncs an
//! Application, runs its canary and analysis, reverts the bad commit in Git and syncs the revert
//! without one Forbidden answer, and the account cannot do what Sluice has no business doing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use support::SimProcess;
use support::gitops::{ControllerProcess, admin, apply, states, until, until_app};
use tests::git::git;
use tests::revert::rollout;

const ACCOUNT: &str = "system:serviceaccount:sluice-system:sluice";

fn kustomize(dir: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new("kubectl")
        .args(["kustomize", &root.join(dir).display().to_string()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn documents(yaml: &str) -> Vec<Value> {
    crds::yaml::values(yaml).unwrap()
}

/// The arguments of the Deployment's container, with the cache moved to a test folder and the
/// listen address left to [`ControllerProcess`] (a free loopback port).
fn deployment_args(rendered: &[Value], cache: &Path) -> Vec<String> {
    let deployment = rendered.iter().find(|d| d["kind"] == "Deployment").unwrap();
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    let args: Vec<String> = container["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(args[0], "controller");
    let mut out = Vec::new();
    for arg in &args[1..] {
        match arg.split_once('=') {
            Some(("--metrics-addr", _)) => {}
            Some(("--repo-cache", _)) => out.extend(["--repo-cache".to_owned(), cache.display().to_string()]),
            _ => out.push(arg.clone()),
        }
    }
    out
}

/// Prints the controller's log when the test fails.
struct ShowLog(std::path::PathBuf);

impl Drop for ShowLog {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.0).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            eprintln!(
                "controller log (last lines):\n{}",
                lines[lines.len().saturating_sub(30)..].join("\n")
            );
        }
    }
}

/// `kubectl auth can-i VERB RESOURCE [-n NS]` as the controller's account.
fn can_i(sim: &SimProcess, verb: &str, resource: &str, namespace: Option<&str>) -> bool {
    // `RESOURCE/NAME` would name an object: a subresource goes in its own flag.
    let (resource, subresource) = resource.split_once('/').unwrap_or((resource, ""));
    let sub = format!("--subresource={subresource}");
    let mut args = vec!["auth", "can-i", verb, resource, "--as", ACCOUNT];
    if !subresource.is_empty() {
        args.push(&sub);
    }
    if let Some(ns) = namespace {
        args.extend(["-n", ns]);
    }
    let out = sim.kubectl(&args, None);
    let said = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(said == "yes" || said == "no", "can-i {verb} {resource}: {said} {out:?}");
    said == "yes"
}

#[test]
fn every_optional_component_renders_onto_the_base() {
    let rendered = documents(&kustomize("examples/install"));
    let kinds: Vec<&str> = rendered.iter().filter_map(|d| d["kind"].as_str()).collect();
    for kind in ["ServiceMonitor", "PodDisruptionBudget", "Deployment", "Service"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    let deployment = rendered.iter().find(|d| d["kind"] == "Deployment").unwrap();
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(deployment["spec"]["replicas"], 2);
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    let container = &pod["containers"][0];
    assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(container["image"], "ghcr.io/sluice-dev/sluice:0.1.0");
    assert!(container["resources"]["limits"]["memory"].is_string());
    // The crate's CRDs are the installed ones.
    let crds: Vec<&Value> = rendered
        .iter()
        .filter(|d| d["kind"] == "CustomResourceDefinition")
        .collect();
    assert_eq!(crds.len(), crds::crdgen::all().len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_install_base_runs_the_controller_with_only_the_rights_it_needs() {
    let sim = SimProcess::start_with(&["--authz"]);
    let text = kustomize("deploy");
    sim.kubectl_ok(&["apply", "--server-side", "-f", "-"], Some(&text));
    let client = admin(&sim).await;

    // The controller, as the Deployment runs it, with the ServiceAccount's token.
    let token = sim.kubectl_ok(&["create", "token", "sluice", "-n", "sluice-system"], None);
    let kubeconfig = sim.dir.path().join("sluice.kubeconfig");
    let admin_config = std::fs::read_to_string(sim.kubeconfig()).unwrap();
    assert!(admin_config.contains("token: sluice-sim\n"));
    std::fs::write(
        &kubeconfig,
        admin_config.replace("token: sluice-sim\n", &format!("token: {}\n", token.trim())),
    )
    .unwrap();
    let cache = sim.dir.path().join("cache");
    let args = deployment_args(&documents(&text), &cache);
    let mut extra: Vec<&str> = args.iter().map(String::as_str).collect();
    extra.extend(["--leader-elect", "true", "--repo-poll-interval", "1s"]);
    let log = sim.dir.path().join("controller.log");
    let _controller = ControllerProcess::start_as(&sim, &kubeconfig, Some(&log), &extra);
    let _show = ShowLog(log.clone());

    // A canary through Git: synced, Healthy; a bad commit reverted in Git; the revert synced.
    let served = sim.dir.path().join("git");
    let (repo, good) = tests::revert::first_commit(&served);
    let url = format!("file://{}", repo.bare.display());
    let app = tests::revert::application(&url, "true", json!({"prune": true}));
    apply(&client, &app).await;
    until_app(
        &client,
        "api",
        "Healthy on the first commit",
        Duration::from_secs(60),
        |a| a["metadata"]["annotations"]["sluice.dev/healthy-revision"] == good.as_str(),
    )
    .await;
    let bad = repo.commit(&[("api/rollout.yaml", &rollout("api:2"))], "api 2");
    let bare = repo.bare.clone();
    until("the revert on the remote", Duration::from_secs(90), || {
        let (bare, bad) = (bare.clone(), bad.clone());
        async move { git(&bare, &["log", "-1", "--format=%P", "main"]) == bad }
    })
    .await;
    let revert = git(&bare, &["rev-parse", "main"]);
    until_app(&client, "api", "Healthy on the revert", Duration::from_secs(60), |a| {
        a["status"]["sync"]["revision"] == revert.as_str()
            && states(a) == ("Synced".into(), "Healthy".into(), "Succeeded".into())
    })
    .await;
    let lease = support::gitops::get(
        &client,
        "coordination.k8s.io/v1",
        "Lease",
        "sluice-system",
        "sluice-controller",
    )
    .await;
    assert!(lease.is_some(), "the leader Lease is in the controller's namespace");
    let said = std::fs::read_to_string(&log).unwrap();
    assert!(
        !said.to_lowercase().contains("forbidden"),
        "the controller was refused something:\n{said}"
    );

    // What the account may and may not do.
    for (verb, resource, namespace) in [
        ("watch", "rollouts.argoproj.io", None),
        ("patch", "rollouts.argoproj.io/status", Some("shop")),
        ("create", "replicasets.apps", Some("shop")),
        ("patch", "deployments.apps", Some("shop")),
        ("create", "pods/eviction", Some("shop")),
        ("list", "secrets", Some("argocd")),
        ("patch", "leases.coordination.k8s.io", Some("sluice-system")),
    ] {
        assert!(
            can_i(&sim, verb, resource, namespace),
            "may {verb} {resource} in {namespace:?}"
        );
    }
    for (verb, resource, namespace) in [
        ("get", "secrets", Some("default")),
        ("list", "secrets", None),
        ("create", "clusterrolebindings.rbac.authorization.k8s.io", None),
        ("create", "roles.rbac.authorization.k8s.io", Some("shop")),
        ("delete", "nodes", None),
        ("delete", "namespaces", None),
        ("create", "customresourcedefinitions.apiextensions.k8s.io", None),
        ("patch", "leases.coordination.k8s.io", Some("kube-system")),
        ("update", "rollouts.argoproj.io/status", Some("shop")),
        ("impersonate", "users", None),
        ("patch", "applications.argoproj.io", Some("shop")),
    ] {
        assert!(
            !can_i(&sim, verb, resource, namespace),
            "may not {verb} {resource} in {namespace:?}"
        );
    }
}
