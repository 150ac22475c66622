//! Running the controller: the endpoint, leader election, every reconciler under one stop
//! signal, and a clean shutdown (in-flight reconciles finish, then the Lease is handed over).
//!
//! The `sluice controller` command, the demo and the end-to-end tests all start the reconcilers
//! through [`Manager`], so they run the same way everywhere.

mod leader;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use analysis::providers::{JobProvider, PrometheusProvider, Providers, WebProvider};

pub use leader::{LeaderElection, identity};

use crate::Context;
use crate::metrics::Metrics;
use crate::runtime::{GitOps, RuntimeError};
use crate::scope::Scope;
use crate::shutdown::{self, Shutdown};

/// How long in-flight reconciles may take to finish after the stop signal.
const DRAIN: Duration = Duration::from_secs(10);

/// Why the controller stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ManagerError {
    /// An HTTP client of the providers could not be built.
    #[error("cannot build an HTTP client")]
    Http(#[source] reqwest::Error),
    /// The endpoint failed.
    #[error("cannot serve /metrics on {addr}")]
    Serve {
        /// The address.
        addr: SocketAddr,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
    /// Leader election failed.
    #[error("leader election on Lease {lease}")]
    Lease {
        /// The Lease name.
        lease: String,
        /// The election error.
        #[source]
        source: kube_lease_manager::LeaseManagerError,
    },
    /// Another replica took the leader Lease; this one stops so it can never act beside it.
    #[error("lost the leader lease; stopping")]
    LostLease,
    /// The kubeconfig could not be read.
    #[error("cannot load the kubeconfig {path}")]
    Kubeconfig {
        /// The file.
        path: String,
        /// The error.
        #[source]
        source: kube::config::KubeconfigError,
    },
    /// No cluster configuration was found.
    #[error("cannot find a cluster to talk to (pass --kubeconfig or set KUBECONFIG)")]
    Infer(#[source] Box<kube::config::InferConfigError>),
    /// The Kubernetes client could not be built.
    #[error("cannot build the Kubernetes client")]
    Client(#[source] kube::Error),
    /// The GitOps runtime (for Applications and ApplicationSets) could not start.
    #[error("the Application reconciler cannot start")]
    Runtime(#[source] RuntimeError),
}

/// What the controller runs with.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// What it handles.
    pub scope: Scope,
    /// Prometheus address for metrics that do not set one.
    pub prometheus_address: Option<String>,
    /// Where to serve `/metrics`, `/healthz` and `/readyz` (`None`: not served).
    pub metrics_addr: Option<SocketAddr>,
    /// Leader election (`None`: this replica acts alone).
    pub leader_election: Option<LeaderElection>,
    /// The Application reconciler's settings (`None`: it does not run).
    pub applications: Option<crate::runtime::AppSettings>,
}

/// The controller: its context and options, ready to run.
#[derive(Debug)]
pub struct Manager {
    ctx: Context,
    providers: Providers,
    options: Options,
    ready: Arc<AtomicBool>,
    webhook: Option<crate::runtime::webhook::Receiver>,
    pushes: parking_lot::Mutex<Option<tokio::sync::mpsc::Receiver<gitops::webhook::Push>>>,
}

impl Manager {
    /// A manager for `ctx` with the default providers (Prometheus, web, Job).
    ///
    /// # Errors
    /// When the providers' HTTP clients cannot be built.
    pub fn new(ctx: Context, options: Options) -> Result<Self, ManagerError> {
        let providers = default_providers(
            ctx.client.clone(),
            options.prometheus_address.clone(),
            ctx.clock.clone(),
        )
        .map_err(ManagerError::Http)?;
        let (pushed, pushes) = tokio::sync::mpsc::channel(crate::runtime::webhook::QUEUE);
        let webhook = options
            .applications
            .as_ref()
            .map(|settings| crate::runtime::webhook::Receiver {
                client: ctx.client.clone(),
                namespace: settings.namespace.clone(),
                pushes: pushed,
            });
        Ok(Self {
            ctx,
            providers,
            options,
            ready: Arc::default(),
            webhook,
            pushes: parking_lot::Mutex::new(Some(pushes)),
        })
    }

    /// The metrics the reconcilers record.
    #[must_use]
    pub fn metrics(&self) -> Arc<Metrics> {
        self.ctx.metrics.clone()
    }

    /// Runs until `stop` completes, or the endpoint fails, or the leader Lease is lost.
    ///
    /// # Errors
    /// Leader election or the endpoint failed, or the Lease was lost.
    pub async fn run(self, stop: impl Future<Output = ()>) -> Result<(), ManagerError> {
        let sharded = self
            .options
            .applications
            .as_ref()
            .is_some_and(|s| s.shard.is_some_and(|shard| shard.count > 1));
        if !sharded {
            return self.lead(stop, true).await;
        }
        // Every replica manages its shard of the Applications at once; Rollouts and AnalysisRuns
        // wait for the leader Lease as before.
        let (trigger, shutdown) = shutdown::channel();
        let applications = self.applications(shutdown);
        tokio::pin!(applications);
        let mut finished = false;
        let result = tokio::select! {
            led = self.lead(stop, false) => led,
            ran = &mut applications => {
                finished = true;
                ran
            }
        };
        trigger.stop();
        if !finished && tokio::time::timeout(DRAIN, &mut applications).await.is_err() {
            tracing::warn!("Application reconciles still running after {DRAIN:?}; stopping anyway");
        }
        result
    }

    /// Leads (after the Lease, when elected) until `stop`: every reconciler, the Application one
    /// only when `applications`.
    async fn lead(&self, stop: impl Future<Output = ()>, applications: bool) -> Result<(), ManagerError> {
        let server = self.serve();
        tokio::pin!(server);
        tokio::pin!(stop);
        // Leadership first: a standby replica serves its endpoints but acts on nothing.
        let mut candidate = match &self.options.leader_election {
            Some(election) => {
                let mut candidate = leader::Candidate::join(&self.ctx.client, election, identity()).await?;
                tracing::info!(lease = %election.lease_name, "waiting to become the leader");
                tokio::select! {
                    elected = candidate.elected() => elected?,
                    served = &mut server => return served,
                    () = &mut stop => return Ok(()),
                }
                Some(candidate)
            }
            None => None,
        };
        self.ctx.metrics.leader.set(1);
        self.ready.store(true, Ordering::SeqCst);
        tracing::info!("leading: starting the reconcilers");
        let (trigger, shutdown) = shutdown::channel();
        let reconcilers = self.reconcilers(shutdown, applications);
        tokio::pin!(reconcilers);
        let lost = async {
            match candidate.as_mut() {
                Some(c) => c.lost().await,
                None => std::future::pending().await,
            }
        };
        let mut finished = false;
        let result = tokio::select! {
            ran = &mut reconcilers => {
                finished = true;
                ran
            }
            served = &mut server => served,
            () = &mut stop => Ok(()),
            () = lost => Err(ManagerError::LostLease),
        };
        trigger.stop();
        if !finished && tokio::time::timeout(DRAIN, &mut reconcilers).await.is_err() {
            tracing::warn!("reconciles still running after {DRAIN:?}; stopping anyway");
        }
        self.ctx.metrics.leader.set(0);
        self.ready.store(false, Ordering::SeqCst);
        if let Some(candidate) = candidate {
            candidate.resign().await;
        }
        result
    }

    /// The GitOps runtime and its reconcilers (Applications, and ApplicationSets on the replica
    /// that generates), when configured, stopping on `shutdown`.
    ///
    /// # Errors
    /// The runtime cannot start: the process stops with the reason rather than run without them.
    async fn applications(&self, shutdown: Shutdown) -> Result<(), ManagerError> {
        let pushes = self.pushes.lock().take();
        let (Some(settings), Some(pushes)) = (self.options.applications.clone(), pushes) else {
            return Ok(());
        };
        let (runtime, streams) = GitOps::start(self.ctx.clone(), settings).map_err(ManagerError::Runtime)?;
        let runtime = Arc::new(runtime);
        let sets = async {
            if runtime.generates() {
                crate::applicationset::run(runtime.clone(), shutdown.clone()).await;
            }
        };
        tokio::join!(
            crate::application::run(runtime.clone(), streams, pushes, shutdown.clone()),
            sets,
        );
        Ok(())
    }

    /// Every reconciler (the GitOps ones only when `applications`), each stopping on `shutdown`.
    ///
    /// # Errors
    /// The GitOps runtime cannot start.
    async fn reconcilers(&self, shutdown: Shutdown, applications: bool) -> Result<(), ManagerError> {
        let scope = &self.options.scope;
        let applications = async {
            if applications {
                self.applications(shutdown.clone()).await
            } else {
                Ok(())
            }
        };
        let rollouts = async {
            crate::rollout::run(self.ctx.clone(), scope, shutdown.clone()).await;
            Ok(())
        };
        let runs = async {
            crate::analysisrun::run(self.ctx.clone(), self.providers.clone(), scope, shutdown.clone()).await;
            Ok(())
        };
        // The first error (a runtime that cannot start) ends them all: the process stops with it.
        tokio::try_join!(rollouts, runs, applications).map(|_| ())
    }

    /// Serves the endpoint, or waits forever when it is not asked for.
    async fn serve(&self) -> Result<(), ManagerError> {
        match self.options.metrics_addr {
            Some(addr) => {
                crate::server::serve(addr, self.ctx.metrics.clone(), self.ready.clone(), self.webhook.clone())
                    .await
                    .map_err(|source| ManagerError::Serve { addr, source })
            }
            None => std::future::pending().await,
        }
    }
}

/// The providers the controller offers: Prometheus (with `prometheus_address` for metrics that do
/// not set one), web, and Job through `client`, all reading the time from `clock`.
///
/// # Errors
/// When the HTTP clients cannot be built.
pub fn default_providers(
    client: kube::Client,
    prometheus_address: Option<String>,
    clock: crate::clock::SharedClock,
) -> Result<Providers, reqwest::Error> {
    // reqwest's rustls backend needs a process-wide crypto provider before a client is built.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Ok(Providers::new(
        PrometheusProvider::new(prometheus_address, clock.clone())?,
        WebProvider::new(clock)?,
        Some(JobProvider::new(client)),
    ))
}

/// A client for the cluster `kubeconfig` names (default: `$KUBECONFIG`, `~/.kube/config`, or the
/// in-cluster account).
///
/// # Errors
/// When no configuration is found or it cannot be read.
pub async fn client(kubeconfig: Option<&Path>) -> Result<kube::Client, ManagerError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = match kubeconfig {
        Some(path) => {
            let kubeconfig_error = |source| ManagerError::Kubeconfig {
                path: path.display().to_string(),
                source,
            };
            let kubeconfig = kube::config::Kubeconfig::read_from(path).map_err(kubeconfig_error)?;
            kube::Config::from_custom_kubeconfig(kubeconfig, &kube::config::KubeConfigOptions::default())
                .await
                .map_err(kubeconfig_error)?
        }
        None => kube::Config::infer()
            .await
            .map_err(|e| ManagerError::Infer(Box::new(e)))?,
    };
    kube::Client::try_from(config).map_err(ManagerError::Client)
}
