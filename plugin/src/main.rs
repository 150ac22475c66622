//! `kubectl-sluice`: watch and drive Sluice rollouts from kubectl (`kubectl sluice ...`).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod lint;

/// Watch and drive Sluice (Argo-compatible) rollouts.
#[derive(Debug, Parser)]
#[command(name = "kubectl-sluice", bin_name = "kubectl sluice", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check manifests offline: every Rollout, AnalysisTemplate, Application and AppProject in the
    /// files is validated; exit code 1 when any problem is found.
    Lint {
        /// Files to check (`-` reads standard input).
        #[arg(short = 'f', long = "filename", required = true)]
        files: Vec<String>,
    },
    /// Print the version.
    Version,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Lint { files } => lint::run(&files, &mut std::io::stdout().lock()),
        Command::Version => {
            println!("kubectl-sluice {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
    }
}
