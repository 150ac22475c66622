//! The subcommands of `sluice`.

pub mod crds;
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
    /// Waiting for a signal failed.
    #[error("cannot wait for the stop signal")]
    Signal(#[source] std::io::Error),
}
