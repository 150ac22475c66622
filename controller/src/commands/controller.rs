//! `sluice controller`: runs the reconcilers against a cluster.

use std::net::SocketAddr;
use std::path::PathBuf;

use controller::Context;

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
    /// Serve /metrics and /healthz here.
    #[arg(long, default_value = "127.0.0.1:8090")]
    pub metrics_addr: SocketAddr,
}

/// Runs the controller until SIGINT/SIGTERM.
///
/// # Errors
/// When the runtime, the client or the providers cannot start.
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
        let ctx = Context::new(client, providers);
        let metrics = ctx.metrics.clone();
        let addr = args.metrics_addr;
        let namespace = args.namespace.clone();
        tokio::select! {
            () = controller::analysisrun::run(ctx, namespace.as_deref()) => Ok(()),
            served = controller::server::serve(addr, metrics) => served.map_err(CommandError::Serve),
            signal = tokio::signal::ctrl_c() => signal.map_err(CommandError::Signal),
        }
    })
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
