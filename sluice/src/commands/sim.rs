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
    /// Write a kubeconfig (context `sluice-sim`) for the server to this file (with `--no-api`: read
    /// the API server to act on from it).
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    /// Serve HTTPS with a freshly generated CA (written into the kubeconfig).
    #[arg(long)]
    tls: bool,
    /// Serve only the API: no simulated kubelet, controllers or application metrics.
    #[arg(long, conflicts_with = "no_api")]
    no_workloads: bool,
    /// Run only the workload simulator, against the API server named by `--kubeconfig`
    /// (another `sluice sim --no-workloads`, or a real cluster).
    #[arg(long)]
    no_api: bool,
    /// Where the simulated applications' Prometheus metrics are served (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    metrics_addr: String,
    /// Requests per second each ready simulated pod answers.
    #[arg(long, default_value_t = ::sim::workloads::metrics_server::DEFAULT_REQUEST_RATE)]
    request_rate: f64,
    /// Also push the application metrics to this Prometheus remote-write URL
    /// (e.g. `http://127.0.0.1:9090/api/v1/write`, with `--web.enable-remote-write-receiver`).
    #[arg(long)]
    remote_write: Option<String>,
    /// Print a Prometheus scrape configuration for the application metrics.
    #[arg(long)]
    print_scrape_config: bool,
    /// Check bearer tokens and RBAC as kube-apiserver does (the written kubeconfig holds an
    /// administrator's token; ServiceAccount tokens come from the TokenRequest API). Implies
    /// --tls: clients send tokens over TLS only.
    #[arg(long, conflicts_with = "no_api")]
    authz: bool,
    /// More tokens, in kube-apiserver's token file format: `token,user,uid,"group1,group2"`.
    #[arg(long, requires = "authz")]
    token_file: Option<PathBuf>,
}

impl SimArgs {
    fn options(&self) -> Result<::sim::SimOptions, CommandError> {
        let tokens = match &self.token_file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| CommandError::Read {
                    path: path.display().to_string(),
                    source,
                })?;
                ::sim::api::auth::Tokens::parse_file(&text)
                    .map_err(|e| CommandError::Invalid(format!("{}: {e}", path.display())))?
            }
            None => Vec::new(),
        };
        Ok(::sim::SimOptions {
            addr: self.addr.clone(),
            https: self.tls,
            authz: self.authz,
            tokens,
        })
    }
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
        // These lines only inform; a closed stdout must not stop the server.
        let mut out = std::io::stdout().lock();
        let (sim, client) = if args.no_api {
            // Only the workload simulator, against the API server the kubeconfig names.
            let path = args.kubeconfig.as_ref().ok_or(CommandError::Usage(
                "--no-api needs --kubeconfig FILE naming the API server to act on",
            ))?;
            let client = ::sim::client_from_kubeconfig(path).await?;
            let _ = writeln!(
                out,
                "sluice sim: simulating workloads for the API server in {}",
                path.display()
            );
            (None, client)
        } else {
            let sim = ::sim::Sim::start_with(&args.options()?).await?;
            // The kubeconfig exists before anything is announced: readers of stdout may use it at once.
            if let Some(path) = &args.kubeconfig {
                sim.write_kubeconfig(path)?;
            }
            let _ = writeln!(out, "sluice sim: serving the Kubernetes API on {}", sim.url());
            if let Some(path) = &args.kubeconfig {
                let _ = writeln!(
                    out,
                    "sluice sim: kubeconfig written to {} (context sluice-sim)",
                    path.display()
                );
            }
            let client = sim.client()?;
            (Some(sim), client)
        };
        // The workload simulator is a client of the API like any other.
        let mut tasks = Vec::new();
        if !args.no_workloads {
            tasks.push(::sim::workloads::runner::spawn(client.clone()));
            let (addr, task) = ::sim::workloads::metrics_server::serve(
                client,
                &args.metrics_addr,
                args.request_rate,
                args.remote_write.clone(),
            )
            .await
            .map_err(|source| ::sim::SimError::Bind {
                addr: args.metrics_addr.clone(),
                source,
            })?;
            tasks.push(task);
            let _ = writeln!(out, "sluice sim: application metrics on http://{addr}/metrics");
            if args.print_scrape_config {
                let _ = write!(out, "{}", ::sim::workloads::metrics::scrape_config(&addr.to_string()));
            }
        }
        let _ = out.flush();
        drop(out);
        super::stop_signal()?.await;
        for task in tasks {
            task.abort();
        }
        if let Some(sim) = sim {
            sim.stop().await;
        }
        Ok(())
    })
}
