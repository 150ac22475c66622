//! What one reconcile of an Application observed: the decision's only input.

use crds::gitops::{AppProjectSpec, StoredApplication};
use jiff::Timestamp;
use serde_json::Value;

use super::compare::Compared;
use super::context::SelfHeal;

/// One desired (non-hook) resource and how it compares.
#[derive(Clone, Debug, PartialEq)]
pub struct Resource {
    /// As rendered from Git, with namespace and tracking id set.
    pub desired: Value,
    /// The live object, if any.
    pub live: Option<Value>,
    /// How they compare.
    pub compared: Compared,
    /// Whether the kind is namespaced (`false` also when not served yet).
    pub namespaced: bool,
    /// Whether the API server serves the kind.
    pub served: bool,
}

/// What Git gave.
#[derive(Clone, Debug, PartialEq)]
pub struct Observed {
    /// The commit (full SHA).
    pub revision: String,
    /// Directory, Kustomize or Helm.
    pub source_type: &'static str,
    /// Desired resources, compared.
    pub resources: Vec<Resource>,
    /// Hooks as rendered (namespace and tracking id set).
    pub hooks: Vec<Value>,
}

/// Everything a decision looks at.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// The Application as stored.
    pub app: StoredApplication,
    /// Now, from the context's clock.
    pub now: Timestamp,
    /// The project's rules (`Err`: the project does not exist).
    pub project: Result<AppProjectSpec, String>,
    /// Git's side (`Err`: the ComparisonError message).
    pub source: Result<Observed, String>,
    /// Live resources tracked by the Application that Git no longer declares (not hooks).
    pub extra: Vec<Value>,
    /// Live hooks tracked by the Application.
    pub live_hooks: Vec<Value>,
    /// Self-heal attempts at the current revision.
    pub self_heal: SelfHeal,
    /// The destination namespace.
    pub namespace: String,
    /// The destination cluster (`Err`: it cannot be resolved, an InvalidSpecError message).
    pub cluster: Result<ClusterRef, String>,
    /// Whether auto-revert is on for this Application (annotation, else the controller default).
    pub auto_revert: bool,
    /// What auto-revert needs, when it is on and the revision is not the known-good one.
    pub revert: Option<RevertInputs>,
}

/// The cluster an Application deploys to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterRef {
    /// Its server URL.
    pub server: String,
    /// Its name.
    pub name: String,
    /// Why it does not answer, when it does not (its Applications are Unknown meanwhile).
    pub unreachable: Option<String>,
}

/// History for the auto-revert decision (see `gitops::revert`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RevertInputs {
    /// Dry run rather than push.
    pub dry_run: bool,
    /// The last revision synced and Healthy (`sluice.dev/healthy-revision`).
    pub known_good: Option<String>,
    /// Commits after it, newest first.
    pub commits: Vec<gitops::revert::Commit>,
    /// Commits already reverted (trailers in recent history).
    pub already_reverted: Vec<String>,
    /// This Application's reverts in the last hour, and how many are allowed.
    pub recent: (u32, u32),
    /// The branch to push to (`None`: the target is a tag or a SHA).
    pub branch: Option<String>,
    /// The Application's input at the synced revision: its path, and for Kustomize every local
    /// base, component and file the build reads (paths from the repository root).
    pub input: Vec<String>,
    /// One revert commit for all the culprits (`--revert-squash`).
    pub squash: bool,
    /// What the failed AnalysisRuns of Degraded Rollouts measured (`gitops::revert::evidence`).
    pub analysis: Vec<String>,
}

impl Snapshot {
    /// The Application's name.
    #[must_use]
    pub fn name(&self) -> &str {
        self.app.metadata.name.as_deref().unwrap_or_default()
    }
}
