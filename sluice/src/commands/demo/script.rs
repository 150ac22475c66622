//! The demo's script: start everything, then three commits to Git (the first deploy, a good image,
//! a bad one), each synced by the Application; the bad one's canary fails its analysis and Sluice
//! reverts the commit in Git, which syncs back to the good version; then the summary.

use std::time::{Duration, Instant};

use crds::rollout::RolloutPhase;
use crds::{AnalysisRun, Rollout};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::{Api, Client};

use controller::manager::{Manager, Options};
use controller::runtime::AppSettings;
use controller::scope::Scope;

use super::DemoArgs;
use super::app::AppFollower;
use super::apply::create_all;
use super::git::DemoRepo;
use super::live::{Live, settled_in};
use crate::commands::CommandError;

const ROLLOUT: &str = include_str!("../../../../examples/demo/rollout.yaml");
const APPLICATION: &str = include_str!("../../../../examples/demo/application.yaml");
const FIRST: &str = "registry.example/api:1.0.0";
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
    /// The temporary folder of the Git repository and the controller's repository cache.
    root: std::path::PathBuf,
    repo: DemoRepo,
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
            crds.create(&crds::params::create(), &crd)
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
        let root = std::env::temp_dir().join(format!("sluice-demo-{}", std::process::id()));
        let repo = DemoRepo::create(&root.join("git"))?;
        let settings = AppSettings {
            repo_cache: Some(root.join("cache")),
            poll_interval: Duration::from_secs(1),
            auto_revert: true,
            ..AppSettings::default()
        };
        let options = Options {
            scope: Scope::namespace(NAMESPACE),
            prometheus_address: prometheus.as_ref().map(|p| p.url().to_string()),
            applications: Some(settings),
            ..Options::default()
        };
        let manager = Manager::new(controller::Context::new(client.clone()), options)?;
        let controller = tokio::spawn(manager.run(std::future::pending()));
        Ok(Self {
            root,
            repo,
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
        drop(self.repo);
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Runs the demo.
pub async fn run(args: &DemoArgs) -> Result<(), CommandError> {
    crate::logging::init("error");
    let begun = crds::clock::stopwatch();
    let stage = Stage::start(args).await?;
    // Whatever happens, everything started is stopped and the temporary folder removed.
    let result = tell(&stage, args, begun).await;
    stage.stop().await;
    result
}

/// The story, told on a started stage.
async fn tell(stage: &Stage, args: &DemoArgs, begun: Instant) -> Result<(), CommandError> {
    println!(
        "Sluice demo: a simulated Kubernetes API at {} with simulated workloads, the controller with auto-revert on, and a Git repository at {}.",
        stage.sim.url(),
        stage.repo.url()
    );
    let client = stage.client.clone();
    let namespace = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: argocd\n";
    create_all(&client, namespace, "argocd").await?;
    let mut live = Live::start(&client, NAMESPACE);
    let app = AppFollower::start(&client, "argocd", NAME, !live.on_terminal());
    live.set_footer(app.line_source());
    let template = stage.template();
    let story = Story {
        repo: &stage.repo,
        app: &app,
        template: &template,
    };
    let first = story.commit(FIRST, "api 1.0.0: first deploy")?;
    create_all(&client, &APPLICATION.replace("REPO_URL", &stage.repo.url()), "argocd").await?;
    let timeline = story.play(&mut live, &first).await?;
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
        println!("  kubectl sluice app get api; kubectl sluice get rollout api -w");
        println!(
            "  git clone {} /tmp/api && cd /tmp/api   # edit apps/api/rollout.yaml, commit, git push",
            stage.repo.path().display()
        );
        println!("Ctrl-C stops everything.");
        crate::commands::stop_signal()?.await;
    } else {
        println!();
        println!(
            "Keep exploring: `cargo run --release -- demo --keep` leaves it all running, with a kubeconfig for `kubectl sluice` and the repository to clone and push to."
        );
    }
    // Watches stay open until their clients go: stop the clients first, then the server.
    drop(app);
    drop(live);
    Ok(())
}

/// The three commits and what follows each.
struct Story<'a> {
    repo: &'a DemoRepo,
    app: &'a AppFollower,
    template: &'a str,
}

impl Story<'_> {
    /// Commits the Rollout with `image` (and the analysis template) to `apps/api/`.
    fn commit(&self, image: &str, message: &str) -> Result<super::git::Shown, CommandError> {
        let rollout = ROLLOUT.replace(FIRST, image);
        let shown = self.repo.commit(
            &[
                ("apps/api/rollout.yaml", &rollout),
                ("apps/api/success-rate.yaml", self.template),
            ],
            message,
        )?;
        println!("git commit {} {message}", shown.short);
        Ok(shown)
    }

    /// Waits for the Application to sync `sha`; the seconds from `since` to the sync's end.
    async fn synced(&self, sha: &str, since: Instant) -> Result<f64, CommandError> {
        self.app
            .until(STEP_LIMIT, |a| a.synced_to(sha))
            .await
            .ok_or_else(|| demo_error(format!("the Application did not sync {}", &sha[..7])))?;
        let at = self.app.synced_at(sha).unwrap_or_else(crds::clock::stopwatch);
        Ok(at.saturating_duration_since(since).as_secs_f64())
    }

    async fn play(&self, live: &mut Live, first: &super::git::Shown) -> Result<Vec<String>, CommandError> {
        let mut timeline = Vec::new();
        let step = crds::clock::stopwatch();
        live.until(NAME, STEP_LIMIT, |r| healthy_on(r, FIRST))
            .await
            .ok_or_else(|| demo_error("the first deploy did not become Healthy"))?;
        let synced = self.synced(&first.sha, step).await?;
        timeline.push(format!(
            "commit {} ({FIRST}): synced after {synced:.1} s, straight to 100%, Healthy after {:.1} s",
            first.short,
            step.elapsed().as_secs_f64()
        ));

        let good = self.commit(GOOD, "api 1.1.0")?;
        let step = crds::clock::stopwatch();
        live.until(NAME, STEP_LIMIT, |r| healthy_on(r, GOOD))
            .await
            .ok_or_else(|| demo_error("the good version did not become stable"))?;
        let synced = self.synced(&good.sha, step).await?;
        timeline.push(format!(
            "commit {} ({GOOD}): synced after {synced:.1} s, 20% → pause → analysis → 60% → pause → 100%, stable after {:.1} s",
            good.short,
            step.elapsed().as_secs_f64()
        ));
        // The next commit may be reverted back to this one only once Sluice has recorded it as
        // known-good (Synced and Healthy); committing earlier would make both commits culprits.
        self.app
            .until(STEP_LIMIT, |s| s.known_good == good.sha)
            .await
            .ok_or_else(|| demo_error("the good version was not recorded as known-good"))?;

        let bad = self.commit(BAD, "api 1.2.0")?;
        timeline.push(self.bad_one(live, &bad).await?);
        Ok(timeline)
    }

    /// The bad commit: aborted, reverted in Git by Sluice, the revert synced back to good.
    async fn bad_one(&self, live: &mut Live, bad: &super::git::Shown) -> Result<String, CommandError> {
        let step = crds::clock::stopwatch();
        let aborted = live
            .until(NAME, STEP_LIMIT, |r| settled_in(r, RolloutPhase::Degraded))
            .await
            .ok_or_else(|| demo_error("the bad version was not aborted"))?;
        let failed_at = crds::clock::stopwatch();
        let message = aborted.status.and_then(|s| s.message).unwrap_or_default();
        let aborted_after = step.elapsed().as_secs_f64();
        let deadline = tokio::time::Instant::from_std(crds::clock::stopwatch()) + STEP_LIMIT;
        let revert = loop {
            if let Some(tip) = self.repo.tip()
                && tip.to_string() != bad.sha
            {
                break self.repo.show(tip)?;
            }
            if tokio::time::Instant::from_std(crds::clock::stopwatch()) >= deadline {
                return Err(demo_error("Sluice did not revert the bad commit"));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let pushed_after = failed_at.elapsed().as_millis();
        let subject = revert.message.lines().next().unwrap_or_default().to_owned();
        println!("Sluice pushed: {} {subject}", revert.short);
        for line in revert.message.lines().filter(|l| l.starts_with("Sluice-")) {
            println!("    {line}");
        }
        let since_revert = crds::clock::stopwatch();
        live.until(NAME, STEP_LIMIT, |r| healthy_on(r, GOOD))
            .await
            .ok_or_else(|| demo_error("the revert did not bring the Rollout back to Healthy"))?;
        self.synced(&revert.sha, since_revert).await?;
        Ok(format!(
            "commit {} ({BAD}): synced, canary aborted after {aborted_after:.1} s\n      {message}\n      Sluice reverted it in Git {pushed_after} ms after the abort was seen: {} {subject}\n      the revert synced, Healthy on {GOOD} {:.1} s later (no steps: back to the stable version)",
            bad.short,
            revert.short,
            since_revert.elapsed().as_secs_f64()
        ))
    }
}
