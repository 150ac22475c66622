//! `sluice controller`: runs the reconcilers against a cluster, optionally as one of several
//! replicas that elect a leader through a Lease.

use std::net::SocketAddr;
use std::path::PathBuf;

use controller::Context;
use controller::manager::{self, LeaderElection, Manager, Options, Scope};

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
}

impl ControllerArgs {
    fn options(&self) -> Options {
        Options {
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
        }
    }
}

/// Runs the controller until SIGINT/SIGTERM (or until it loses the leader Lease).
///
/// # Errors
/// When the runtime, the client, the providers or leader election fail.
pub fn run(args: &ControllerArgs) -> Result<(), CommandError> {
    let runtime = tokio::runtime::Runtime::new().map_err(CommandError::Runtime)?;
    runtime.block_on(async {
        manager::init_tracing("info");
        let stop = super::stop_signal()?;
        let client = manager::client(args.kubeconfig.as_deref()).await?;
        let manager = Manager::new(Context::new(client), args.options())?;
        manager.run(stop).await?;
        Ok(())
    })
}
