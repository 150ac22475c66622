//! The GitOps tests' usual start, built in one call: a simulated cluster with Sluice's CRDs, a Git
//! repository with its first commit served over `git://`, and a `sluice controller` watching
//! them; then Applications of that repository.

#![allow(dead_code)] // each test file uses a part

use kube::Client;
use serde_json::{Value, json};
use tests::git::{GitDaemon, GitRepo};

use super::SimProcess;
use super::gitops::{ControllerProcess, apply, cluster};

/// A cluster, a repository, its `git daemon` and the controller; everything stops on drop.
pub struct Scenario {
    /// The controller (dropped first).
    pub controller: ControllerProcess,
    /// The `git daemon` serving the repository.
    pub daemon: GitDaemon,
    /// The repository (commit to it to change what is deployed).
    pub repo: GitRepo,
    /// Its name on the daemon.
    pub name: String,
    /// A client of the cluster.
    pub client: Client,
    /// The simulator process.
    pub sim: SimProcess,
}

impl Scenario {
    /// A repository `name` whose first commit holds `files`, and a controller started with
    /// `args` (beside the defaults of [`ControllerProcess::start`]).
    pub async fn start(name: &str, files: &[(&str, &str)], args: &[&str]) -> Self {
        let (sim, client) = cluster().await;
        let served = sim.dir.path().join("git");
        std::fs::create_dir_all(&served).unwrap();
        let repo = GitRepo::create(&served, name);
        repo.commit(files, "first");
        let daemon = GitDaemon::start(&served);
        let controller = ControllerProcess::start(&sim, args);
        Self {
            controller,
            daemon,
            repo,
            name: name.to_owned(),
            client,
            sim,
        }
    }

    /// The repository's `git://` URL.
    #[must_use]
    pub fn url(&self) -> String {
        self.daemon.url(&self.name)
    }

    /// Creates the Application `name` of the repository's `path` (branch `main`) into the
    /// `default` namespace with `sync_policy`; returns it as sent.
    pub async fn application(&self, name: &str, path: &str, sync_policy: Value) -> Value {
        let app = json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": name, "namespace": "argocd"},
            "spec": {
                "source": {"repoURL": self.url(), "path": path, "targetRevision": "main"},
                "destination": {"server": "https://kubernetes.default.svc", "namespace": "default"},
                "syncPolicy": sync_policy,
            }
        });
        apply(&self.client, &app).await;
        app
    }
}
