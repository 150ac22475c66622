//! `sluice sim`: a local simulated API server, serving until Ctrl-C or SIGTERM.

use std::io::Write;
use std::path::PathBuf;

use super::CommandError;

/// Options of `sluice sim`.
#[derive(Debug, clap::Args)]
pub struct SimArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: String,
    /// Write a kubeconfig (context `sluice-sim`) for the server to this file.
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    /// Serve HTTPS with a freshly generated CA (written into the kubeconfig).
    #[arg(long)]
    tls: bool,
    /// Serve only the API: no simulated kubelet or ReplicaSet controller.
    #[arg(long)]
    no_workloads: bool,
}

/// Runs the simulator until stopped.
///
/// # Errors
/// When the address cannot be opened or the kubeconfig cannot be written.
pub fn run(args: &SimArgs) -> Result<(), CommandError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CommandError::Runtime)?;
    runtime.block_on(async {
        let sim = ::sim::Sim::start_on(&args.addr, args.tls).await?;
        if let Some(path) = &args.kubeconfig {
            sim.write_kubeconfig(path)?;
        }
        // The workload simulator is a client of the API like any other.
        let workloads = if args.no_workloads {
            None
        } else {
            Some(::sim::workloads::runner::spawn(sim.client()?))
        };
        // These lines only inform; a closed stdout must not stop the server.
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "sluice sim: serving the Kubernetes API on {}", sim.url());
        if let Some(path) = &args.kubeconfig {
            let _ = writeln!(
                out,
                "sluice sim: kubeconfig written to {} (context sluice-sim)",
                path.display()
            );
        }
        let _ = out.flush();
        drop(out);
        wait_for_stop().await?;
        if let Some(task) = workloads {
            task.abort();
        }
        sim.stop().await;
        Ok(())
    })
}

async fn wait_for_stop() -> Result<(), CommandError> {
    let mut term =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).map_err(CommandError::Signal)?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result.map_err(CommandError::Signal),
        _ = term.recv() => Ok(()),
    }
}
