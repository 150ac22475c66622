//! `sluice controller`: runs the reconcilers against a cluster, optionally as one of several
//! replicas that elect a leader through a Lease.

use std::net::SocketAddr;
use std::path::PathBuf;

use controller::Context;
use controller::manager::{self, LeaderElection, Manager, Options};
use controller::runtime::AppSettings;
use controller::scope::Scope;
use gitops::shard::{Shard, ShardBy};

use super::CommandError;

/// Options of `sluice controller`.
#[derive(Debug, clap::Args)]
pub struct ControllerArgs {
    /// Kubeconfig to use (default: $KUBECONFIG, ~/.kube/config, or the in-cluster account).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// Only watch this namespace (default: all namespaces).
    #[arg(long)]
    pub namespace: Option<String>,
    /// Prometheus address for metrics that do not set `address`.
    #[arg(long, env = "ARGO_ROLLOUTS_PROMETHEUS_ADDRESS")]
    pub prometheus_address: Option<String>,
    /// Serve /metrics, /healthz and /readyz here.
    #[arg(long, default_value = "127.0.0.1:8090")]
    pub metrics_addr: SocketAddr,
    /// Only handle Rollouts and AnalysisRuns labelled `argo-rollouts.argoproj.io/controller-instance-id=ID`
    /// (without it: only those without that label).
    #[arg(long)]
    pub instance_id: Option<String>,
    /// Elect a leader through a Lease, so that several replicas can run and only one acts.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub leader_elect: bool,
    /// Namespace of the leader Lease.
    #[arg(long, default_value = "default")]
    pub leader_election_namespace: String,
    /// Name of the leader Lease.
    #[arg(long, default_value = "sluice-controller")]
    pub lease_name: String,
    /// Seconds a leader's Lease stays valid without renewal.
    #[arg(long, default_value_t = 15)]
    pub lease_duration: u64,
    /// Namespace of Applications, AppProjects and repository Secrets (Argo CD's).
    #[arg(long, default_value = "argocd")]
    pub application_namespace: String,
    /// Do not run the Application reconciler.
    #[arg(long)]
    pub no_applications: bool,
    /// Folder of the Git repository cache (default: a folder under the system temp dir).
    #[arg(long)]
    pub repo_cache: Option<PathBuf>,
    /// How often each repository is checked for new commits (`ls-remote`), e.g. 15s, 3m.
    #[arg(long, default_value = "15s", value_parser = parse_duration)]
    pub repo_poll_interval: std::time::Duration,
    /// Fetch repositories whose URL starts with PREFIX from REPLACEMENT instead (git's
    /// `insteadOf`: a mirror); Applications, credentials and projects keep the URL as written.
    #[arg(long, value_name = "PREFIX=REPLACEMENT", value_parser = parse_rewrite)]
    pub repo_url_rewrite: Vec<(String, String)>,
    /// The `helm` binary for Helm sources (default: the first `helm` on PATH).
    #[arg(long)]
    pub helm_binary: Option<String>,
    /// Auto-revert in Git for Applications without a `sluice.dev/auto-revert` annotation.
    #[arg(long)]
    pub auto_revert: bool,
    /// Author and committer of revert commits, `Name <email>`.
    #[arg(long, default_value = "Sluice <sluice@localhost>", value_parser = parse_author)]
    pub git_author: (String, String),
    /// Reverts per Application per hour before auto-revert stops and asks for a person.
    #[arg(long, default_value_t = 3)]
    pub max_reverts_per_hour: u32,
    /// One revert commit for all the commits reverted at once, instead of one each.
    #[arg(long)]
    pub revert_squash: bool,
    /// How many replicas share the Applications (each manages its shard's; Rollouts and
    /// AnalysisRuns stay with the leader).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub shards: u32,
    /// This replica's shard, `0..shards` (default: the StatefulSet ordinal at the end of the
    /// hostname).
    #[arg(long)]
    pub shard: Option<u32>,
    /// Spread Applications by destination `cluster`, or by `application` (one big cluster).
    #[arg(long, default_value = "cluster", value_parser = ["cluster", "application"])]
    pub shard_by: String,
}

fn parse_author(text: &str) -> Result<(String, String), String> {
    let (name, rest) = text
        .split_once('<')
        .ok_or_else(|| format!("{text:?} is not `Name <email>`"))?;
    let email = rest
        .strip_suffix('>')
        .ok_or_else(|| format!("{text:?} is not `Name <email>`"))?;
    Ok((name.trim().to_owned(), email.trim().to_owned()))
}

fn parse_rewrite(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .filter(|(from, to)| !from.is_empty() && !to.is_empty())
        .map(|(from, to)| (from.to_owned(), to.to_owned()))
        .ok_or_else(|| format!("{text:?} is not PREFIX=REPLACEMENT"))
}

fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let d = crds::duration::parse(text).map_err(|e| e.to_string())?;
    u64::try_from(d.as_nanos())
        .map(std::time::Duration::from_nanos)
        .map_err(|_| format!("{text:?} is negative"))
}

impl ControllerArgs {
    /// This replica's shard, when the Applications are sharded.
    fn shard(&self) -> Result<Option<Shard>, CommandError> {
        if self.shards <= 1 {
            return Ok(None);
        }
        let hostname = std::env::var("HOSTNAME").unwrap_or_default();
        let index = self
            .shard
            .or_else(|| gitops::shard::ordinal(&hostname))
            .ok_or(CommandError::Usage(
                "--shards needs --shard, or a StatefulSet hostname ending in its ordinal",
            ))?;
        if index >= self.shards {
            return Err(CommandError::Usage("--shard must be below --shards"));
        }
        let by = if self.shard_by == "application" {
            ShardBy::Application
        } else {
            ShardBy::Cluster
        };
        Ok(Some(Shard {
            index,
            count: self.shards,
            by,
        }))
    }

    fn options(&self) -> Result<Options, CommandError> {
        let shard = self.shard()?;
        Ok(Options {
            scope: Scope {
                namespace: self.namespace.clone(),
                instance_id: self.instance_id.clone(),
            },
            prometheus_address: self.prometheus_address.clone(),
            metrics_addr: Some(self.metrics_addr),
            leader_election: self.leader_elect.then(|| LeaderElection {
                namespace: self.leader_election_namespace.clone(),
                lease_name: self.lease_name.clone(),
                lease_duration: self.lease_duration,
            }),
            applications: (!self.no_applications).then(|| AppSettings {
                namespace: self.application_namespace.clone(),
                repo_cache: self.repo_cache.clone(),
                poll_interval: self.repo_poll_interval,
                url_rewrites: self.repo_url_rewrite.clone(),
                helm_binary: self.helm_binary.clone(),
                auto_revert: self.auto_revert,
                git_author: self.git_author.clone(),
                max_reverts_per_hour: self.max_reverts_per_hour,
                revert_squash: self.revert_squash,
                shard,
                ..AppSettings::default()
            }),
        })
    }
}

/// Runs the controller until SIGINT/SIGTERM (or until it loses the leader Lease).
///
/// # Errors
/// When the runtime, the client, the providers or leader election fail.
pub fn run(args: &ControllerArgs) -> Result<(), CommandError> {
    let runtime = tokio::runtime::Runtime::new().map_err(CommandError::Runtime)?;
    runtime.block_on(async {
        crate::logging::init("info");
        let stop = super::stop_signal()?;
        let client = manager::client(args.kubeconfig.as_deref()).await?;
        let manager = Manager::new(Context::new(client), args.options()?)?;
        manager.run(stop).await?;
        Ok(())
    })
}
