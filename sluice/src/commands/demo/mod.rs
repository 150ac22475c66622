//! `sluice demo`: a simulated cluster (API server and workloads), Prometheus when one is installed,
//! a Git repository, and the controller with auto-revert on, all in this process; then the
//! founding canary Rollout, declared in Git, through a good commit and a bad one that Sluice
//! reverts in Git, drawn live as `kubectl sluice get rollout -w` draws it, and a summary.

mod app;
mod apply;
mod git;
mod live;
mod script;

use std::path::PathBuf;

use super::CommandError;

/// Options of `sluice demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Keep everything running at the end (until Ctrl-C), with a kubeconfig for `kubectl sluice`.
    #[arg(long)]
    pub keep: bool,
    /// Where `--keep` writes the kubeconfig.
    #[arg(long, default_value = "/tmp/sluice-demo.kubeconfig")]
    pub kubeconfig: PathBuf,
    /// Judge with the web provider against the simulator even when Prometheus is installed.
    #[arg(long)]
    pub no_prometheus: bool,
}

/// Runs the demo.
///
/// # Errors
/// When the simulator, Prometheus or the controller cannot start, or a step does not happen in time.
pub fn run(args: &DemoArgs) -> Result<(), CommandError> {
    let runtime = tokio::runtime::Runtime::new().map_err(CommandError::Runtime)?;
    let result = runtime.block_on(script::run(args));
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    result
}
