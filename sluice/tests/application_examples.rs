//! `examples/gitops/` runs as its README says: the repository layout served by `git daemon`, the
//! AppProject and Applications applied unchanged, every Application Synced and Healthy.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use support::gitops::{ControllerProcess, apply, cluster, get, states, until_app};
use tests::git::{GitDaemon, GitRepo};

fn example(name: &str) -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/gitops")
        .join(name);
    crds::yaml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gitops_example_syncs_as_its_readme_says() {
    let (sim, client) = cluster().await;
    let served = sim.dir.path().join("git");
    std::fs::create_dir_all(&served).unwrap();
    let repo = GitRepo::create(&served, "k8s-config");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/gitops/repo");
    let mut paths = Vec::new();
    files(&root, &mut paths);
    let contents: Vec<(String, String)> = paths
        .iter()
        .map(|p| {
            (
                p.strip_prefix(&root).unwrap().display().to_string(),
                std::fs::read_to_string(p).unwrap(),
            )
        })
        .collect();
    let borrowed: Vec<(&str, &str)> = contents.iter().map(|(p, c)| (p.as_str(), c.as_str())).collect();
    repo.commit(&borrowed, "platform");
    let daemon = GitDaemon::start(&served);
    let rewrite = format!(
        "https://git.example.com/platform/={}",
        daemon.url("").trim_end_matches(".git")
    );
    let _controller = ControllerProcess::start(&sim, &["--repo-url-rewrite", &rewrite]);
    for file in [
        "project.yaml",
        "guestbook.yaml",
        "payment-service-staging.yaml",
        "payment-service-production.yaml",
    ] {
        apply(&client, &example(file)).await;
    }
    // The staging cluster's Applications, as the root's `staging` child applies them.
    let staging = std::fs::read_to_string(root.join("clusters/staging/apps.yaml")).unwrap();
    for value in crds::yaml::values(&staging).unwrap() {
        apply(&client, &value).await;
    }
    for app in [
        "guestbook",
        "payment-service-staging",
        "payment-service-production",
        "api-staging",
        "worker-staging",
    ] {
        let done = until_app(&client, app, "Synced and Healthy", Duration::from_secs(90), |a| {
            states(a) == ("Synced".into(), "Healthy".into(), "Succeeded".into())
        })
        .await;
        assert!(
            done["status"]["conditions"].as_array().is_none_or(Vec::is_empty),
            "{app}: {}",
            done["status"]["conditions"]
        );
    }
    let production = get(
        &client,
        "apps/v1",
        "Deployment",
        "payment-production",
        "payment-service",
    )
    .await
    .unwrap();
    assert_eq!(production["spec"]["replicas"], 3);
    let api = get(&client, "argoproj.io/v1alpha1", "Rollout", "staging", "api")
        .await
        .unwrap();
    assert_eq!(api["spec"]["replicas"], 2, "the staging overlay's patch");
    assert_eq!(api["status"]["phase"], "Healthy");
    assert_eq!(production["metadata"]["labels"]["environment"], "production");
    let guestbook = until_app(&client, "guestbook", "the smoke test", Duration::from_secs(10), |a| {
        a["status"]["operationState"]["syncResult"]["resources"]
            .as_array()
            .is_some_and(|r| r.iter().any(|r| r["hookPhase"] == "Succeeded"))
    })
    .await;
    assert_eq!(guestbook["status"]["sourceType"], "Directory");
}

/// Every manifest of the example loads as its kind, and every kustomization in the repository
/// renders: what an ApplicationSet or the root Application would apply is valid today.
#[test]
fn every_example_manifest_loads_and_every_overlay_renders() {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/gitops");
    let mut paths = Vec::new();
    files(&base, &mut paths);
    let mut kinds = std::collections::BTreeMap::<String, usize>::new();
    for path in paths.iter().filter(|p| p.extension().is_some_and(|e| e == "yaml")) {
        let text = std::fs::read_to_string(path).unwrap();
        if path.ends_with("kustomization.yaml") {
            let dir = path.parent().unwrap();
            let out = std::process::Command::new("kubectl")
                .args(["kustomize", &dir.display().to_string()])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}: {}",
                dir.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            continue;
        }
        for value in crds::yaml::values(&text).unwrap() {
            let kind = value["kind"].as_str().unwrap_or_default().to_owned();
            let loaded = match kind.as_str() {
                "Application" => serde_json::from_value::<crds::gitops::Application>(value).map(|_| ()),
                "ApplicationSet" => serde_json::from_value::<crds::gitops::ApplicationSet>(value).map(|_| ()),
                "AppProject" => serde_json::from_value::<crds::gitops::AppProject>(value).map(|_| ()),
                "Rollout" => serde_json::from_value::<crds::rollout::Rollout>(value).map(|_| ()),
                "AnalysisTemplate" => serde_json::from_value::<crds::analysis::AnalysisTemplate>(value).map(|_| ()),
                _ => Ok(()),
            };
            loaded.unwrap_or_else(|e| panic!("{}: {kind}: {e}", path.display()));
            *kinds.entry(kind).or_default() += 1;
        }
    }
    assert_eq!(kinds.get("ApplicationSet"), Some(&3), "{kinds:?}");
    assert_eq!(kinds.get("AppProject"), Some(&1), "{kinds:?}");
    assert!(kinds.get("Application").is_some_and(|n| *n >= 8), "{kinds:?}");
}
