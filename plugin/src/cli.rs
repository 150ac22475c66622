//! The command line of `kubectl sluice`.

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Watch and drive Sluice (Argo-compatible) rollouts.
#[derive(Debug, Parser)]
#[command(name = "kubectl-sluice", bin_name = "kubectl sluice", version, about)]
pub struct Cli {
    /// Cluster options.
    #[command(flatten)]
    pub global: Global,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// kubectl's usual flags.
#[derive(Debug, Args, Clone)]
pub struct Global {
    /// Kubeconfig file (default: $KUBECONFIG or ~/.kube/config).
    #[arg(long, global = true)]
    pub kubeconfig: Option<std::path::PathBuf>,
    /// Kubeconfig context to use.
    #[arg(long, global = true)]
    pub context: Option<String>,
    /// Namespace (default: the context's, or `default`).
    #[arg(short = 'n', long, global = true)]
    pub namespace: Option<String>,
    /// Never colour the output (also: the NO_COLOR environment variable, or output that is not a terminal).
    #[arg(long, global = true)]
    pub no_color: bool,
}

/// Output formats for scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// JSON.
    Json,
    /// YAML.
    Yaml,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show a rollout: header and tree of revisions, ReplicaSets, pods and AnalysisRuns.
    Get {
        /// What to show.
        #[command(subcommand)]
        what: GetWhat,
    },
    /// List rollouts.
    List {
        /// What to list.
        #[command(subcommand)]
        what: ListWhat,
    },
    /// Resume a paused rollout or skip its current step; `--full` skips every remaining step.
    Promote {
        /// Rollout name.
        name: String,
        /// Skip every remaining step, pause and analysis.
        #[arg(long)]
        full: bool,
    },
    /// Abort updates: back to the stable version.
    Abort {
        /// Rollout names.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Retry an aborted update from its first step.
    Retry {
        /// What to retry.
        #[command(subcommand)]
        what: RetryWhat,
    },
    /// Pause rollouts (`spec.paused`).
    Pause {
        /// Rollout names.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Restart every pod of a rollout (now, or after a delay).
    Restart {
        /// Rollout name.
        name: String,
        /// Delay, e.g. `30s` or `5m`.
        #[arg(long = "in")]
        delay: Option<String>,
    },
    /// Change images.
    Set {
        /// What to set.
        #[command(subcommand)]
        what: SetWhat,
    },
    /// Go back to an earlier revision's pod template.
    Undo {
        /// Rollout name.
        name: String,
        /// Revision to go back to (default: the previous one).
        #[arg(long)]
        to_revision: Option<i64>,
    },
    /// Print the phase as it changes; exit 0 when Healthy, 1 when Degraded or on timeout.
    Status {
        /// Rollout name.
        name: String,
        /// Keep watching until Healthy, Degraded or the timeout (default); `-w=false` prints once.
        #[arg(short = 'w', long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
        watch: bool,
        /// Give up after this long, e.g. `5m` (default: wait forever).
        #[arg(short = 't', long)]
        timeout: Option<String>,
        /// Print the Rollout instead, for scripts.
        #[arg(short = 'o', long)]
        output: Option<Output>,
    },
    /// Assess objects' health offline, as the controller does (`kubectl get rollout api -o yaml |
    /// kubectl sluice health -f -`).
    Health {
        /// Files with the objects (`-` reads standard input).
        #[arg(short = 'f', long = "filename", required = true)]
        files: Vec<String>,
    },
    /// Check manifests offline; exit code 1 when any problem is found.
    Lint {
        /// Files to check (`-` reads standard input).
        #[arg(short = 'f', long = "filename", required = true)]
        files: Vec<String>,
    },
    /// Create objects.
    Create {
        /// What to create.
        #[command(subcommand)]
        what: CreateWhat,
    },
    /// Stop an AnalysisRun early.
    Terminate {
        /// What to terminate.
        #[command(subcommand)]
        what: TerminateWhat,
    },
    /// Applications (Argo CD's): list, get, diff, sync, history, wait. Namespace default: `argocd`.
    App {
        /// What to do.
        #[command(subcommand)]
        what: AppCommand,
    },
    /// ApplicationSets (Argo CD's): what their generators give and what they own. Namespace
    /// default: `argocd`.
    Appset {
        /// What to do.
        #[command(subcommand)]
        what: AppsetCommand,
    },
    /// Print the version.
    Version,
    /// Print a shell completion script.
    Completion {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// `appset` commands.
#[derive(Debug, Subcommand)]
pub enum AppsetCommand {
    /// The set's conditions, every parameter set its generators give now with the Application
    /// each renders, and the Applications it owns.
    Get {
        /// ApplicationSet name.
        name: String,
        /// Print the ApplicationSet instead, for scripts.
        #[arg(short = 'o', long)]
        output: Option<Output>,
    },
}

/// `app` commands.
#[derive(Debug, Subcommand)]
pub enum AppCommand {
    /// One line per Application.
    List {
        /// All namespaces.
        #[arg(short = 'A', long)]
        all_namespaces: bool,
        /// Print the Applications instead, for scripts.
        #[arg(short = 'o', long)]
        output: Option<Output>,
    },
    /// Sync and health, source, conditions, the last operation and every resource.
    Get {
        /// Application name.
        name: String,
        /// Print the Application instead, for scripts.
        #[arg(short = 'o', long)]
        output: Option<Output>,
    },
    /// Unified diff of live against Git (rendered here, compared by a server dry run); exit 1
    /// when there is a difference, as `argocd app diff`.
    Diff {
        /// Application name.
        name: String,
    },
    /// Ask for a sync (writes `operation`), then wait for its outcome unless `--async`.
    Sync {
        /// Application name.
        name: String,
        /// Delete resources no longer in Git.
        #[arg(long)]
        prune: bool,
        /// Sync this revision instead of the target revision.
        #[arg(long)]
        revision: Option<String>,
        /// Return once the sync is asked for.
        #[arg(long = "async")]
        no_wait: bool,
        /// Give up waiting after this long, e.g. `5m`.
        #[arg(short = 't', long)]
        timeout: Option<String>,
        /// Deploy a pod template that Sluice reverted and keeps out of automated syncs
        /// (`RevertedChangeBlocked`).
        #[arg(long)]
        allow_reverted: bool,
    },
    /// Revert in Git the commits since an earlier revision that changed the Application's path,
    /// and push (default revision: the last known-good one, else the previous sync).
    Revert {
        /// Application name.
        name: String,
        /// The revision to go back to.
        #[arg(long)]
        to_revision: Option<String>,
        /// Print the commits and messages; push nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Past syncs.
    History {
        /// Application name.
        name: String,
    },
    /// Wait until Healthy (`--health`) and/or Synced (`--sync`); exit 1 when Degraded, when the
    /// sync failed, or at the timeout.
    Wait {
        /// Application name.
        name: String,
        /// Wait for health.
        #[arg(long)]
        health: bool,
        /// Wait for sync.
        #[arg(long)]
        sync: bool,
        /// Give up after this long, e.g. `5m`.
        #[arg(short = 't', long)]
        timeout: Option<String>,
    },
}

/// `get` targets.
#[derive(Debug, Subcommand)]
pub enum GetWhat {
    /// One rollout.
    #[command(alias = "ro")]
    Rollout {
        /// Rollout name.
        name: String,
        /// Redraw as it changes (until Ctrl-C).
        #[arg(short = 'w', long)]
        watch: bool,
        /// Print the Rollout instead, for scripts.
        #[arg(short = 'o', long)]
        output: Option<Output>,
    },
}

/// `list` targets.
#[derive(Debug, Subcommand)]
pub enum ListWhat {
    /// Rollouts of the namespace (or all namespaces).
    #[command(alias = "ro")]
    Rollouts {
        /// All namespaces.
        #[arg(short = 'A', long)]
        all_namespaces: bool,
        /// Redraw as they change (until Ctrl-C).
        #[arg(short = 'w', long)]
        watch: bool,
        /// Print the Rollouts instead, for scripts.
        #[arg(short = 'o', long)]
        output: Option<Output>,
    },
}

/// `retry` targets.
#[derive(Debug, Subcommand)]
pub enum RetryWhat {
    /// An aborted rollout.
    #[command(alias = "ro")]
    Rollout {
        /// Rollout name.
        name: String,
    },
}

/// `set` targets.
#[derive(Debug, Subcommand)]
pub enum SetWhat {
    /// A container's image (`*` for every container).
    Image {
        /// Rollout name.
        name: String,
        /// CONTAINER=IMAGE.
        image: String,
    },
}

/// `create` targets.
#[derive(Debug, Subcommand)]
pub enum CreateWhat {
    /// An AnalysisRun from a template.
    #[command(alias = "ar")]
    Analysisrun {
        /// The AnalysisTemplate (or, with --global, ClusterAnalysisTemplate).
        #[arg(long)]
        from: String,
        /// Use a ClusterAnalysisTemplate.
        #[arg(long)]
        global: bool,
        /// Arguments, NAME=VALUE.
        #[arg(short = 'a', long = "argument")]
        args: Vec<String>,
        /// Name of the run (default: the template's name plus a random suffix).
        #[arg(long)]
        name: Option<String>,
    },
}

/// `terminate` targets.
#[derive(Debug, Subcommand)]
pub enum TerminateWhat {
    /// An AnalysisRun.
    #[command(alias = "ar")]
    Analysisrun {
        /// Run name.
        name: String,
    },
}
