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
    pub project: Result<AppProjectSpec, InvalidSpec>,
    /// Git's side, or why it was not observed (a ComparisonError either way; only an
    /// [`Unobserved::Invalid`] says anything about what Git holds).
    pub source: Result<Observed, Unobserved>,
    /// Live resources tracked by the Application that Git no longer declares (not hooks).
    pub extra: Vec<Value>,
    /// Live hooks tracked by the Application.
    pub live_hooks: Vec<Value>,
    /// Self-heal attempts at the current revision.
    pub self_heal: SelfHeal,
    /// The destination namespace.
    pub namespace: String,
    /// The destination cluster (`Err`: no cluster Secret declares it, or it cannot be used).
    pub cluster: Result<ClusterRef, InvalidSpec>,
    /// Whether auto-revert is on for this Application (annotation, else the controller default).
    pub auto_revert: bool,
    /// What auto-revert needs, when it is on and the revision is not the known-good one.
    pub revert: Option<RevertInputs>,
}

/// A verdict on the Application's spec (an `InvalidSpecError` condition): what it names does not
/// exist or cannot be used. Never made from a read that failed (that is [`Unobserved::Unreadable`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidSpec(pub String);

/// Why Git's side of a snapshot is missing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unobserved {
    /// It could not be read (Git or the destination cluster did not answer): unknown.
    Unreadable(String),
    /// What Git holds cannot be used (no source, no such revision, manifests that do not render).
    Invalid(String),
    /// Not looked at (the Application is being deleted).
    Skipped,
}

impl Unobserved {
    /// The ComparisonError message.
    #[must_use]
    pub fn message(&self) -> &str {
        match self {
            Self::Unreadable(m) | Self::Invalid(m) => m,
            Self::Skipped => "",
        }
    }
}

impl From<crate::runtime::render::SourceError> for Unobserved {
    fn from(error: crate::runtime::render::SourceError) -> Self {
        match error {
            crate::runtime::render::SourceError::Unreadable(m) => Self::Unreadable(m),
            crate::runtime::render::SourceError::Invalid(m) => Self::Invalid(m),
        }
    }
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
