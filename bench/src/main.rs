//! `cargo run --release -p bench`: runs Sluice's benchmark scenarios on the simulator (a
//! controller as its own process, a real `git daemon`), prints one Markdown table (scenario,
//! figure, value as the median of several runs with min–max, the floor measured in the same run,
//! the ratio, the goal) and writes it to `BENCHMARKS.md` with the machine and the commit.
//! `--quick` runs small sizes once. A separate package, so the product carries no benchmark code;
//! its `controller` command is the controller process the scenarios start.

// The benchmark measures wall time: it reads the machine's clocks by design.
#![allow(clippy::disallowed_methods)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod harness;
mod process;
mod reflector;
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
    /// Only these scenario groups (`gitops`, `rollouts`, `reverts`, ...; all when absent).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
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
        /// Prometheus for analysis.
        #[arg(long)]
        prometheus_address: Option<String>,
        /// Reverts allowed per Application per hour.
        #[arg(long, default_value_t = 3)]
        max_reverts_per_hour: u32,
    },
    /// Runs bare kube-rs reflectors (no controller) over the kinds named, until killed: the
    /// memory floor.
    Reflector {
        /// The cluster.
        #[arg(long)]
        kubeconfig: PathBuf,
        /// `group/version/Kind` (or `v1/Kind`) to reflect, all namespaces.
        #[arg(long = "kind", required = true)]
        kinds: Vec<String>,
        /// Written once every reflector has listed.
        #[arg(long)]
        ready_file: PathBuf,
    },
}

async fn controller(command: Internal) {
    use controller::manager::{Manager, Options};
    let Internal::Controller {
        kubeconfig,
        metrics_addr,
        repo_cache,
        repo_poll_interval,
        prometheus_address,
        max_reverts_per_hour,
    } = command
    else {
        return;
    };
    let poll = repo_poll_interval
        .trim_end_matches('s')
        .parse::<u64>()
        .map_or(Duration::from_secs(15), Duration::from_secs);
    let client = controller::manager::client(Some(&kubeconfig)).await.expect("a client");
    let options = Options {
        metrics_addr: Some(metrics_addr),
        prometheus_address,
        applications: Some(controller::runtime::AppSettings {
            repo_cache: Some(repo_cache),
            poll_interval: poll,
            max_reverts_per_hour,
            ..Default::default()
        }),
        ..Options::default()
    };
    let manager = Manager::new(controller::Context::new(client), options).expect("a manager");
    manager.run(std::future::pending()).await.expect("the controller runs");
}

/// The flags of this run as typed after `cargo run --release -p bench`.
fn flags(quick: bool, only: &[String]) -> String {
    let mut flags = Vec::new();
    if quick {
        flags.push("--quick".to_owned());
    }
    if !only.is_empty() {
        flags.push(format!("--only {}", only.join(",")));
    }
    if flags.is_empty() {
        String::new()
    } else {
        format!(" -- {}", flags.join(" "))
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(command @ Internal::Controller { .. }) => {
            controller(command).await;
            return std::process::ExitCode::SUCCESS;
        }
        Some(Internal::Reflector {
            kubeconfig,
            kinds,
            ready_file,
        }) => {
            reflector::run(&kubeconfig, &kinds, &ready_file).await;
            return std::process::ExitCode::SUCCESS;
        }
        None => {}
    }
    let sizes = if cli.quick {
        scenarios::Sizes::QUICK
    } else {
        scenarios::Sizes::FULL
    };
    let started = std::time::Instant::now();
    let rows = scenarios::run(sizes, &cli.only).await;
    let table = table::render(&rows);
    let report = format!(
        "# Benchmarks\n\nMeasured by `cargo run --release -p bench{}` in {:.0} s on {}, commit `{}`. Each value is the median of {} run(s) ({} for the scale, canary and idle rows; 1 where the figure says so), min–max when they differ; each floor is measured in the same run, so the ratio holds on a noisy machine.\n\n{table}",
        flags(cli.quick, &cli.only),
        started.elapsed().as_secs_f64(),
        table::machine(),
        table::commit(),
        sizes.runs,
        sizes.rollout_runs,
    );
    print!("{report}");
    if let Err(error) = std::fs::write(&cli.out, &report) {
        eprintln!("cannot write {}: {error}", cli.out.display());
        return std::process::ExitCode::FAILURE;
    }
    std::process::ExitCode::SUCCESS
}
