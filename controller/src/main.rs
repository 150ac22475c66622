//! `sluice`: the progressive delivery controller and its tools.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod commands;

/// Sluice: progressive delivery for Kubernetes, driven by Git.
#[derive(Debug, Parser)]
#[command(name = "sluice", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print every CustomResourceDefinition as YAML (pipe into `kubectl apply -f -`).
    Crds,
    /// Run a local simulated Kubernetes API server until stopped (for tests, demos and trying things out).
    Sim(commands::sim::SimArgs),
    /// Run the controller: reconcile AnalysisRuns (and, as they land, Rollouts and Applications).
    Controller(commands::controller::ControllerArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Crds => commands::crds::run(),
        Command::Sim(args) => commands::sim::run(&args),
        Command::Controller(args) => commands::controller::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("sluice: {err}");
            let mut source = std::error::Error::source(&err);
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}
