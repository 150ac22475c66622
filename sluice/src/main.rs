//! `sluice`: the progressive delivery controller and its tools.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod commands;
mod logging;

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
    /// Run the controller: reconcile Rollouts and AnalysisRuns.
    Controller(Box<commands::controller::ControllerArgs>),
    /// Show Sluice at work, with nothing installed: a simulated cluster, a canary through a good
    /// and a bad version, drawn live.
    Demo(commands::demo::DemoArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Crds => commands::crds::run(),
        Command::Sim(args) => commands::sim::run(&args),
        Command::Controller(args) => commands::controller::run(&args),
        Command::Demo(args) => commands::demo::run(&args),
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
