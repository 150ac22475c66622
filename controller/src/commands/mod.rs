//! The subcommands of `sluice`.

pub mod controller;
pub mod crds;
pub mod demo;
pub mod sim;

/// A failed command.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// CRDs could not be rendered.
    #[error(transparent)]
    Crds(#[from] ::crds::crdgen::CrdError),
    /// Writing to standard output failed.
    #[error("cannot write to standard output")]
    Stdout(#[source] std::io::Error),
    /// The async runtime could not start.
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
    /// The simulator failed.
    #[error(transparent)]
    Sim(#[from] ::sim::SimError),
    /// The command line is inconsistent.
    #[error("{0}")]
    Usage(&'static str),
    /// The kubeconfig could not be read.
    #[error("cannot load the kubeconfig")]
    Kubeconfig(#[source] kube::config::KubeconfigError),
    /// No cluster configuration was found.
    #[error("cannot find a cluster to talk to (pass --kubeconfig or set KUBECONFIG)")]
    Infer(#[source] Box<kube::config::InferConfigError>),
    /// The Kubernetes client could not be built.
    #[error("cannot build the Kubernetes client")]
    Client(#[source] kube::Error),
    /// An HTTP client could not be built.
    #[error("cannot build an HTTP client")]
    Http(#[source] reqwest::Error),
    /// The metrics endpoint failed.
    #[error("cannot serve /metrics")]
    Serve(#[source] std::io::Error),
    /// Leader election failed.
    #[error("leader election on Lease {0}")]
    Lease(String, #[source] kube_lease_manager::LeaseManagerError),
    /// Another replica took the leader lease; this one stops so it can never act beside it.
    #[error("lost the leader lease; stopping")]
    LostLease,
    /// The demo could not go on.
    #[error("demo: {0}")]
    Demo(String),
    /// Waiting for a signal failed.
    #[error("cannot wait for the stop signal")]
    Signal(#[source] std::io::Error),
}

/// Waits for Ctrl-C or SIGTERM.
///
/// # Errors
/// When the signal handlers cannot be installed.
pub async fn wait_for_stop() -> Result<(), CommandError> {
    let mut term =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).map_err(CommandError::Signal)?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result.map_err(CommandError::Signal),
        _ = term.recv() => Ok(()),
    }
}
