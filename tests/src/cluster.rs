//! A simulated cluster (API server + workload simulator) with Sluice's controller running.

use std::time::Duration;

use std::sync::Arc;

use controller::manager::{Manager, Options};
use controller::metrics::Metrics;
use crds::AnalysisRun;
use crds::analysis::AnalysisPhase;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{DynamicObject, GroupVersionKind, PostParams};
use kube::discovery::{Discovery, Scope};
use kube::{Api, Client};
use sim::Sim;
use tokio::task::JoinHandle;

/// A cluster for one test; everything stops when it is dropped.
pub struct Cluster {
    /// The simulated API server.
    pub sim: Sim,
    /// A client of it.
    pub client: Client,
    /// The controller's metrics.
    pub metrics: Arc<Metrics>,
    tasks: Vec<JoinHandle<()>>,
}

impl Cluster {
    /// Starts the API server, installs the CRDs, starts the workload simulator and the
    /// Rollout and AnalysisRun controllers (with `prometheus` as the default Prometheus address).
    pub async fn start(prometheus: Option<&str>) -> Self {
        Self::start_with(prometheus, None).await
    }

    /// [`Self::start`], with the Application reconciler too when `applications` is given.
    pub async fn start_with(prometheus: Option<&str>, applications: Option<controller::runtime::AppSettings>) -> Self {
        Self::start_scoped(prometheus, applications, controller::scope::Scope::cluster()).await
    }

    /// [`Self::start_with`], handling only what `scope` names (a namespace, an instance id).
    pub async fn start_scoped(
        prometheus: Option<&str>,
        applications: Option<controller::runtime::AppSettings>,
        scope: controller::scope::Scope,
    ) -> Self {
        sim::tls::ensure_crypto_provider();
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        let sim = Sim::start().await.unwrap();
        let client = sim.client().unwrap();
        let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
        for crd in crds::crdgen::all() {
            crds.create(&PostParams::default(), &crd).await.unwrap();
        }
        let workloads = sim::workloads::runner::spawn(client.clone());
        let options = Options {
            scope,
            prometheus_address: prometheus.map(str::to_string),
            applications,
            ..Options::default()
        };
        let manager = Manager::new(controller::Context::new(client.clone()), options).unwrap();
        let metrics = manager.metrics();
        let controller = tokio::spawn(async move {
            manager.run(std::future::pending()).await.unwrap();
        });
        Self {
            sim,
            client,
            metrics,
            tasks: vec![workloads, controller],
        }
    }

    /// Creates every document of a YAML stream in `namespace` (cluster-scoped kinds ignore it).
    pub async fn apply(&self, yaml: &str, namespace: &str) {
        let discovery = Discovery::new(self.client.clone()).run().await.unwrap();
        for value in crds::yaml::values(yaml).unwrap() {
            let object: DynamicObject = serde_json::from_value(value).unwrap();
            let types = object.types.clone().unwrap();
            let gvk = GroupVersionKind::try_from(&types).unwrap();
            let (resource, capabilities) = discovery.resolve_gvk(&gvk).unwrap();
            let api: Api<DynamicObject> = if capabilities.scope == Scope::Namespaced {
                Api::namespaced_with(self.client.clone(), namespace, &resource)
            } else {
                Api::all_with(self.client.clone(), &resource)
            };
            api.create(&PostParams::default(), &object).await.unwrap();
        }
    }

    /// Waits until the run exists and completes (or `timeout` passes) and returns it. A step's
    /// index can be in the Rollout's status a moment before its run is created.
    pub async fn completed_run(&self, namespace: &str, name: &str, timeout: Duration) -> AnalysisRun {
        let api: Api<AnalysisRun> = Api::namespaced(self.client.clone(), namespace);
        let what = format!("analysisrun {name} to exist and complete");
        let run = crate::wait::until_state(
            &what,
            timeout,
            Duration::from_millis(100),
            || async { api.get_opt(name).await.unwrap() },
            |run| {
                let phase = run.as_ref().and_then(|r| r.status.as_ref()).and_then(|s| s.phase);
                matches!(
                    phase,
                    Some(
                        AnalysisPhase::Successful
                            | AnalysisPhase::Failed
                            | AnalysisPhase::Error
                            | AnalysisPhase::Inconclusive
                    )
                )
            },
        )
        .await;
        run.unwrap()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}
