//! `cargo run --release -p bench`: runs Sluice's benchmark scenarios on the simulator (a
//! controller as its own process, a real `git daemon`), prints one Markdown table (scenario,
//! figure, value as the median of several runs with min–max, the floor measured in the same run,
//! the ratio, the goal) and writes it to `BENCHMARKS.md` with the machine and the commit.
//! `--quick` runs small sizes once. A separate package, so the product carries no benchmark code;
//! its `controller` command is the controller process the scenarios start.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod harness;
mod scenarios;
mod stats;
mod table;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

/// The benchmark command line.
#[derive(Debug, Parser)]
#[command(name = "bench", about = "Sluice's benchmarks, each figure next to its floor")]
struct Cli {
    /// Small sizes, one run (under two minutes).
    #[arg(long)]
    quick: bool,
    /// Where to write the report.
    #[arg(long, default_value = "BENCHMARKS.md")]
    out: PathBuf,
    /// The controller process (started by the scenarios).
    #[command(subcommand)]
    command: Option<Internal>,
}

/// Commands the scenarios run.
#[derive(Debug, Subcommand)]
enum Internal {
    /// Runs a Sluice controller (Applications included) until killed.
    Controller {
        /// The cluster.
        #[arg(long)]
        kubeconfig: PathBuf,
        /// Where `/metrics` and the webhook are served.
        #[arg(long)]
        metrics_addr: std::net::SocketAddr,
        /// The repository cache.
        #[arg(long)]
        repo_cache: PathBuf,
        /// How often repositories are polled, e.g. `60s`.
        #[arg(long, default_value = "15s")]
        repo_poll_interval: String,
    },
}

async fn controller(kubeconfig: PathBuf, metrics_addr: std::net::SocketAddr, repo_cache: PathBuf, poll: &str) {
    use controller::manager::{Manager, Options};
    let poll = poll
        .trim_end_matches('s')
        .parse::<u64>()
        .map_or(Duration::from_secs(15), Duration::from_secs);
    let client = controller::manager::client(Some(&kubeconfig)).await.expect("a client");
    let options = Options {
        metrics_addr: Some(metrics_addr),
        applications: Some(controller::application::AppSettings {
            repo_cache: Some(repo_cache),
            poll_interval: poll,
            ..Default::default()
        }),
        ..Options::default()
    };
    let manager = Manager::new(controller::Context::new(client), options).expect("a manager");
    manager.run(std::future::pending()).await.expect("the controller runs");
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if let Some(Internal::Controller {
        kubeconfig,
        metrics_addr,
        repo_cache,
        repo_poll_interval,
    }) = cli.command
    {
        controller(kubeconfig, metrics_addr, repo_cache, &repo_poll_interval).await;
        return std::process::ExitCode::SUCCESS;
    }
    let sizes = if cli.quick {
        scenarios::Sizes::QUICK
    } else {
        scenarios::Sizes::FULL
    };
    let started = std::time::Instant::now();
    let mut rows = scenarios::gitops::rows(sizes).await;
    rows.extend(scenarios::rollouts::rows(sizes).await);
    let table = table::render(&rows);
    let report = format!(
        "# Benchmarks\n\nMeasured by `cargo run --release -p bench{}` in {:.0} s on {}, commit `{}`. Each value is the median of {} run(s) (min–max when they differ); each floor is measured in the same run, so the ratio holds on a noisy machine.\n\n{table}",
        if cli.quick { " -- --quick" } else { "" },
        started.elapsed().as_secs_f64(),
        table::machine(),
        table::commit(),
        sizes.runs,
    );
    print!("{report}");
    if let Err(error) = std::fs::write(&cli.out, &report) {
        eprintln!("cannot write {}: {error}", cli.out.display());
        return std::process::ExitCode::FAILURE;
    }
    std::process::ExitCode::SUCCESS
}
