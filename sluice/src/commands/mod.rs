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
    /// A file named on the command line cannot be used.
    #[error("{0}")]
    Invalid(String),
    /// A file named on the command line cannot be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: String,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
    /// The controller failed.
    #[error(transparent)]
    Controller(#[from] ::controller::manager::ManagerError),
    /// The demo could not go on.
    #[error("demo: {0}")]
    Demo(String),
    /// Waiting for a signal failed.
    #[error("cannot wait for the stop signal")]
    Signal(#[source] std::io::Error),
}

/// Installs the handlers for Ctrl-C and SIGTERM, and returns a future that completes on either.
///
/// # Errors
/// When the signal handlers cannot be installed.
pub fn stop_signal() -> Result<impl Future<Output = ()>, CommandError> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).map_err(CommandError::Signal)?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(CommandError::Signal)?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = term.recv() => {}
        }
    })
}
