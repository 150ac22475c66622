//! `sluice controller`: runs the Rollout and AnalysisRun reconcilers against a cluster, optionally
//! as one of several replicas that elect a leader through a Lease.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use controller::Context;
use kube_lease_manager::{LeaseManager, LeaseManagerBuilder};

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

/// Runs the controller until SIGINT/SIGTERM (or until it loses the leader Lease).
///
/// # Errors
/// When the runtime, the client, the providers or leader election fail.
pub fn run(args: &ControllerArgs) -> Result<(), CommandError> {
    let runtime = tokio::runtime::Runtime::new().map_err(CommandError::Runtime)?;
    runtime.block_on(async {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
            )
            .try_init();
        let client = client(args.kubeconfig.as_deref()).await?;
        let providers = controller::context::default_providers(client.clone(), args.prometheus_address.clone())
            .map_err(CommandError::Http)?;
        let ctx = Context::new(client.clone(), providers);
        let metrics = ctx.metrics.clone();
        let ready = Arc::new(AtomicBool::new(false));
        let server = controller::server::serve(args.metrics_addr, metrics.clone(), ready.clone());
        tokio::pin!(server);
        let stop = super::wait_for_stop();
        tokio::pin!(stop);

        // Leadership first: a standby replica serves its endpoints but acts on nothing.
        let lease = if args.leader_elect {
            let manager = lease_manager(&client, args).await?;
            let (mut channel, task) = manager.watch().await;
            tracing::info!(lease = %args.lease_name, "waiting to become the leader");
            loop {
                if *channel.borrow_and_update() {
                    break;
                }
                tokio::select! {
                    changed = channel.changed() => if changed.is_err() { return Err(CommandError::LostLease) },
                    served = &mut server => return served.map_err(CommandError::Serve),
                    stopped = &mut stop => return stopped,
                }
            }
            Some((channel, task))
        } else {
            None
        };
        metrics.leader.set(1);
        ready.store(true, Ordering::SeqCst);
        tracing::info!("leading: starting the reconcilers");

        let (shutdown_tx, mut shutdown_rx) = tokio::sync::watch::channel(false);
        let shutdown = async move {
            let _ = shutdown_rx.changed().await;
        };
        let namespace = args.namespace.clone();
        let instance = args.instance_id.clone();
        let reconcilers = async {
            tokio::join!(
                controller::rollout::run(ctx.clone(), namespace.as_deref(), instance.as_deref(), shutdown),
                controller::analysisrun::run(ctx.clone(), namespace.as_deref(), instance.as_deref()),
            );
        };
        tokio::pin!(reconcilers);
        let (mut channel, task) = match lease {
            Some((channel, task)) => (Some(channel), Some(task)),
            None => (None, None),
        };
        let lost = async {
            match channel.as_mut() {
                Some(c) => loop {
                    if c.changed().await.is_err() || !*c.borrow_and_update() {
                        return;
                    }
                },
                None => std::future::pending().await,
            }
        };
        let result = tokio::select! {
            () = &mut reconcilers => Ok(()),
            served = &mut server => served.map_err(CommandError::Serve),
            stopped = &mut stop => stopped,
            () = lost => Err(CommandError::LostLease),
        };
        // Let in-flight Rollout reconciles finish, then hand the Lease over at once.
        let _ = shutdown_tx.send(true);
        let _ = tokio::time::timeout(std::time::Duration::from_secs(10), &mut reconcilers).await;
        metrics.leader.set(0);
        drop(channel);
        if let Some(task) = task
            && let Ok(Ok(manager)) = task.await
            && let Err(error) = manager.release().await
        {
            tracing::warn!(%error, "cannot release the leader lease");
        }
        result
    })
}

async fn lease_manager(client: &kube::Client, args: &ControllerArgs) -> Result<LeaseManager, CommandError> {
    let identity = format!(
        "{}-{}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "sluice".into()),
        uuid::Uuid::new_v4().simple()
    );
    LeaseManagerBuilder::new(client.clone(), &args.lease_name)
        .with_namespace(&args.leader_election_namespace)
        .with_identity(identity)
        .with_duration(args.lease_duration)
        .with_grace(args.lease_duration.div_ceil(3).max(1))
        .build()
        .await
        .map_err(|e| CommandError::Lease(args.lease_name.clone(), e))
}

async fn client(kubeconfig: Option<&std::path::Path>) -> Result<kube::Client, CommandError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = match kubeconfig {
        Some(path) => {
            let kubeconfig = kube::config::Kubeconfig::read_from(path).map_err(CommandError::Kubeconfig)?;
            kube::Config::from_custom_kubeconfig(kubeconfig, &kube::config::KubeConfigOptions::default())
                .await
                .map_err(CommandError::Kubeconfig)?
        }
        None => kube::Config::infer()
            .await
            .map_err(|e| CommandError::Infer(Box::new(e)))?,
    };
    kube::Client::try_from(config).map_err(CommandError::Client)
}
