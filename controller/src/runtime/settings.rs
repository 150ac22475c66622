//! The GitOps runtime's settings (`sluice controller`'s Application flags).

use std::path::PathBuf;
use std::time::Duration;

use crds::gitops::ResourceIgnoreDifferences;

/// How the GitOps runtime and its reconcilers (Applications, ApplicationSets) run.
#[derive(Clone, Debug)]
pub struct AppSettings {
    /// The namespace holding Applications, AppProjects and repository Secrets (Argo CD's `argocd`).
    pub namespace: String,
    /// Where the repository cache lives (`None`: a folder under the system temp dir).
    pub repo_cache: Option<PathBuf>,
    /// How often each repository is checked for new commits (`ls-remote`), before jitter.
    pub poll_interval: Duration,
    /// How long Kustomize or Helm may run.
    pub render_timeout: Duration,
    /// `ignoreDifferences` applied to every Application (the controller-wide setting).
    pub ignore_differences: Vec<ResourceIgnoreDifferences>,
    /// Secret for GitHub and Gitea webhooks (`X-Hub-Signature-256`).
    pub webhook_secret: Option<String>,
    /// Repository URL prefixes fetched from elsewhere (prefix, replacement).
    pub url_rewrites: Vec<(String, String)>,
    /// The `helm` to run for Helm sources (`None`: the first on `PATH`).
    pub helm_binary: Option<String>,
    /// Auto-revert for Applications without the `sluice.dev/auto-revert` annotation.
    pub auto_revert: bool,
    /// Author and committer of revert commits (name, email).
    pub git_author: (String, String),
    /// Reverts per Application per hour before a person is asked.
    pub max_reverts_per_hour: u32,
    /// One revert commit for all the culprits instead of one each.
    pub revert_squash: bool,
    /// This replica's shard of the Applications (`None`: it manages every Application).
    pub shard: Option<gitops::shard::Shard>,
}

impl Default for AppSettings {
    fn default() -> Self {
        Self {
            namespace: "argocd".into(),
            repo_cache: None,
            poll_interval: Duration::from_secs(15),
            render_timeout: Duration::from_secs(90),
            ignore_differences: Vec::new(),
            webhook_secret: None,
            url_rewrites: Vec::new(),
            helm_binary: None,
            auto_revert: false,
            git_author: ("Sluice".into(), "sluice@localhost".into()),
            max_reverts_per_hour: 3,
            revert_squash: false,
            shard: None,
        }
    }
}
