//! The demo's script: start everything, deploy, a good update, a bad one, back to good, summary.

use std::time::{Duration, Instant};

use crds::rollout::RolloutPhase;
use crds::{AnalysisRun, Rollout};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::json;

use controller::manager::{Manager, Options, Scope};

use super::DemoArgs;
use super::apply::create_all;
use super::live::{Live, settled_in};
use crate::commands::CommandError;

const ROLLOUT: &str = include_str!("../../../../examples/demo/rollout.yaml");
const PROMETHEUS_TEMPLATE: &str = include_str!("../../../../examples/demo/success-rate-prometheus.yaml");
const WEB_TEMPLATE: &str = include_str!("../../../../examples/demo/success-rate-web.yaml");
const NAME: &str = "api";
const NAMESPACE: &str = "default";
const GOOD: &str = "registry.example/api:1.1.0";
const BAD: &str = "registry.example/api:1.2.0-bad";
const STEP_LIMIT: Duration = Duration::from_secs(240);

fn demo_error(what: impl Into<String>) -> CommandError {
    CommandError::Demo(what.into())
}

fn on_path(binary: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(binary).is_file()))
}

async fn set_image(client: &Client, image: &str) -> Result<(), CommandError> {
    let api: Api<Rollout> = Api::namespaced(client.clone(), NAMESPACE);
    let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "api", "image": image}]}}}});
    let params = PatchParams {
        field_manager: Some("sluice-demo".into()),
        ..PatchParams::default()
    };
    api.patch(NAME, &params, &Patch::Merge(&patch))
        .await
        .map_err(|e| demo_error(format!("updating the image: {e}")))?;
    Ok(())
}

fn image(rollout: &Rollout) -> Option<String> {
    rollout
        .spec
        .template
        .as_ref()?
        .spec
        .as_ref()?
        .containers
        .first()?
        .image
        .clone()
}

fn healthy_on(rollout: &Rollout, wanted: &str) -> bool {
    let status = rollout.status.clone().unwrap_or_default();
    settled_in(rollout, RolloutPhase::Healthy)
        && image(rollout).as_deref() == Some(wanted)
        && status.stable_rs == status.current_pod_hash
}

fn run_line(run: &AnalysisRun) -> String {
    let status = run.status.clone().unwrap_or_default();
    let values: Vec<String> = status
        .metric_results
        .iter()
        .flat_map(|m| m.measurements.iter().filter_map(|x| x.value.clone()))
        .collect();
    format!(
        "{}: {:?}, measured {}",
        run.metadata.name.clone().unwrap_or_default(),
        status.phase.unwrap_or(crds::analysis::AnalysisPhase::Pending),
        if values.is_empty() {
            "nothing".to_string()
        } else {
            values.join(", ")
        }
    )
}

/// Everything the demo starts, stopped in order by [`Stage::stop`].
struct Stage {
    sim: sim::Sim,
    client: Client,
    prometheus: Option<sim::prometheus::PrometheusServer>,
    /// The simulator's application metrics (and success-rate endpoint).
    metrics_addr: std::net::SocketAddr,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    controller: tokio::task::JoinHandle<Result<(), controller::manager::ManagerError>>,
}

impl Stage {
    /// The simulated cluster with its CRDs and workloads, Prometheus when installed, and the
    /// controller for the demo's namespace.
    async fn start(args: &DemoArgs) -> Result<Self, CommandError> {
        sim::tls::ensure_crypto_provider();
        let sim = sim::Sim::start().await?;
        let client = sim.client()?;
        let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
        for crd in crds::crdgen::all() {
            crds.create(&PostParams::default(), &crd)
                .await
                .map_err(|e| demo_error(format!("installing the CRDs: {e}")))?;
        }
        let workloads = sim::workloads::runner::spawn(client.clone());
        let prometheus = if !args.no_prometheus && on_path("prometheus") {
            let server = sim::prometheus::PrometheusServer::start()
                .await
                .map_err(|e| demo_error(format!("starting Prometheus: {e}")))?;
            Some(server)
        } else {
            None
        };
        let (metrics_addr, metrics) = sim::workloads::metrics_server::serve(
            client.clone(),
            "127.0.0.1:0",
            sim::workloads::metrics_server::DEFAULT_REQUEST_RATE,
            prometheus
                .as_ref()
                .map(sim::prometheus::PrometheusServer::remote_write_url),
        )
        .await
        .map_err(|e| demo_error(format!("serving application metrics: {e}")))?;
        let options = Options {
            scope: Scope::namespace(NAMESPACE),
            prometheus_address: prometheus.as_ref().map(|p| p.url().to_string()),
            ..Options::default()
        };
        let manager = Manager::new(controller::Context::new(client.clone()), options)?;
        let controller = tokio::spawn(manager.run(std::future::pending()));
        Ok(Self {
            sim,
            client,
            prometheus,
            metrics_addr,
            tasks: vec![metrics, workloads],
            controller,
        })
    }

    /// The success-rate template the demo's analysis uses, saying which provider answers.
    fn template(&self) -> String {
        match &self.prometheus {
            Some(p) => {
                println!(
                    "Analysis: a real Prometheus at {} (the pods' request metrics are pushed to it).",
                    p.url()
                );
                PROMETHEUS_TEMPLATE.to_string()
            }
            None => {
                println!(
                    "Analysis: no `prometheus` on PATH, so the web provider asks the simulator's success-rate endpoint (http://{}).",
                    self.metrics_addr
                );
                WEB_TEMPLATE.replace("SIM_METRICS", &self.metrics_addr.to_string())
            }
        }
    }

    /// Stops the controller and workloads, then Prometheus and the API server.
    async fn stop(self) {
        self.controller.abort();
        for task in self.tasks {
            task.abort();
        }
        drop(self.prometheus);
        let _ = tokio::time::timeout(Duration::from_secs(2), self.sim.stop()).await;
    }
}

/// Runs the demo.
pub async fn run(args: &DemoArgs) -> Result<(), CommandError> {
    controller::manager::init_tracing("error");
    let begun = Instant::now();
    let stage = Stage::start(args).await?;
    println!(
        "Sluice demo: a simulated Kubernetes API at {} with simulated workloads, and the controller.",
        stage.sim.url()
    );
    let client = stage.client.clone();
    create_all(&client, &stage.template(), NAMESPACE).await?;
    create_all(&client, ROLLOUT, NAMESPACE).await?;
    let mut live = Live::start(&client, NAMESPACE);
    let timeline = scenario(&client, &mut live).await?;
    println!();
    println!("Summary ({:.0} s in all):", begun.elapsed().as_secs_f64());
    for (i, line) in timeline.iter().enumerate() {
        println!("  {}. {line}", i + 1);
    }
    println!("  AnalysisRuns:");
    let mut runs = live.runs(NAME);
    runs.sort_by(|a, b| a.metadata.creation_timestamp.cmp(&b.metadata.creation_timestamp));
    for run in &runs {
        println!("    {}", run_line(run));
    }
    if args.keep {
        stage.sim.write_kubeconfig(&args.kubeconfig)?;
        println!();
        println!("Still running. In another terminal:");
        println!("  export KUBECONFIG={}", args.kubeconfig.display());
        println!("  cargo build --release -p plugin && export PATH=$PWD/target/release:$PATH");
        println!("  kubectl sluice get rollout api -w");
        println!("  kubectl sluice set image api api=registry.example/api:1.3.0 && kubectl sluice promote api");
        println!("Ctrl-C stops everything.");
        crate::commands::stop_signal()?.await;
    } else {
        println!();
        println!(
            "Keep exploring: `cargo run --release -- demo --keep` leaves it all running with a kubeconfig for `kubectl sluice`."
        );
    }
    // Watches stay open until their clients go: stop the clients first, then the server.
    drop(live);
    stage.stop().await;
    Ok(())
}

/// The first deploy, a good update, a bad one, and back to good; one timeline line each.
async fn scenario(client: &Client, live: &mut Live) -> Result<Vec<String>, CommandError> {
    let mut timeline = Vec::new();
    let step = Instant::now();
    live.until(NAME, STEP_LIMIT, |r| settled_in(r, RolloutPhase::Healthy))
        .await
        .ok_or_else(|| demo_error("the first deploy did not become Healthy"))?;
    timeline.push(format!(
        "first deploy (registry.example/api:1.0.0), straight to 100%: Healthy after {:.1} s",
        step.elapsed().as_secs_f64()
    ));

    let step = Instant::now();
    set_image(client, GOOD).await?;
    live.until(NAME, STEP_LIMIT, |r| healthy_on(r, GOOD))
        .await
        .ok_or_else(|| demo_error("the good version did not become stable"))?;
    timeline.push(format!(
        "good update ({GOOD}): 20% → pause → analysis → 60% → pause → 100%, stable after {:.1} s",
        step.elapsed().as_secs_f64()
    ));

    let step = Instant::now();
    set_image(client, BAD).await?;
    let aborted = live
        .until(NAME, STEP_LIMIT, |r| settled_in(r, RolloutPhase::Degraded))
        .await
        .ok_or_else(|| demo_error("the bad version was not aborted"))?;
    let message = aborted.status.and_then(|s| s.message).unwrap_or_default();
    let aborted_after = step.elapsed().as_secs_f64();
    live.until(NAME, STEP_LIMIT, |r| {
        let s = r.status.clone().unwrap_or_default();
        s.updated_replicas == Some(0) && s.available_replicas == r.spec.replicas
    })
    .await
    .ok_or_else(|| demo_error("the bad version's pods were not scaled away"))?;
    timeline.push(format!(
        "bad update ({BAD}): aborted after {aborted_after:.1} s, every pod back on {GOOD} after {:.1} s\n      {message}",
        step.elapsed().as_secs_f64()
    ));

    let step = Instant::now();
    set_image(client, GOOD).await?;
    live.until(NAME, STEP_LIMIT, |r| healthy_on(r, GOOD))
        .await
        .ok_or_else(|| demo_error("going back to the stable template did not make the Rollout Healthy"))?;
    timeline.push(format!(
        "template back to {GOOD} (what Sluice's Git revert will commit): no steps, Healthy after {:.1} s",
        step.elapsed().as_secs_f64()
    ));
    Ok(timeline)
}
