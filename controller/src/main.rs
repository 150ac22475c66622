//! `sluice`: the progressive delivery controller and its tools.

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Crds => match crds::crdgen::render_all() {
            Ok(yaml) => {
                let mut out = std::io::stdout().lock();
                if let Err(err) = out.write_all(yaml.as_bytes()) {
                    eprintln!("sluice crds: cannot write output: {err}");
                    return ExitCode::FAILURE;
                }
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("sluice crds: {err}");
                ExitCode::FAILURE
            }
        },
    }
}
