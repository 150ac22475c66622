//! The clusters Applications deploy to: the controller's own (`https://kubernetes.default.svc`,
//! `in-cluster`) and every cluster a cluster Secret declares, each with its own client and live
//! state (discovery, watches), created the first time an Application needs it, rebuilt when its
//! Secret changes and dropped when the Secret goes. A remote cluster is asked whether it answers
//! (every [`RECHECK`]); one that does not makes only its own Applications Unknown.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crds::gitops::StoredApplication;
use gitops::appset::clusters::{Cluster, IN_CLUSTER_SERVER};
use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt as _;
use kube::runtime::reflector::ObjectRef;
use parking_lot::Mutex;
use tokio::sync::mpsc::UnboundedSender;

use super::cluster_config;
use super::live::LiveState;

/// How long a remote cluster's answer (or silence) is believed.
pub const RECHECK: Duration = Duration::from_secs(10);
/// How long a remote cluster has to answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// The local name of the controller's own cluster.
pub const IN_CLUSTER_NAME: &str = "in-cluster";

/// The cluster an Application's destination names.
#[derive(Clone)]
pub struct Resolved {
    /// Its server URL (`https://kubernetes.default.svc` for the local one).
    pub server: String,
    /// Its name.
    pub name: String,
    /// Its live state.
    pub live: Arc<LiveState>,
}

struct Remote {
    /// The Secret's resourceVersion the client was built from.
    version: String,
    live: Arc<LiveState>,
    probe: Arc<Mutex<Probe>>,
    watchdog: tokio::task::JoinHandle<()>,
}

impl Drop for Remote {
    fn drop(&mut self) {
        self.watchdog.abort();
    }
}

/// What is known of a remote cluster's answers, and who deploys to it.
#[derive(Default)]
struct Probe {
    /// The last answer (`None`: not asked yet).
    last: Option<Result<(), String>>,
    /// Applications (names) deploying to it: woken when its answer changes.
    users: std::collections::BTreeSet<String>,
}

async fn ask(live: &LiveState, server: &str) -> Result<(), String> {
    match tokio::time::timeout(PROBE_TIMEOUT, live.client().apiserver_version()).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(error)) => Err(format!("cluster {server} is unreachable: {error}")),
        Err(_) => Err(format!(
            "cluster {server} is unreachable: no answer within {PROBE_TIMEOUT:?}"
        )),
    }
}

/// Every cluster's client and live state.
pub struct Clusters {
    local: Arc<LiveState>,
    app_namespace: String,
    wake: UnboundedSender<ObjectRef<StoredApplication>>,
    remote: Mutex<HashMap<String, Remote>>,
}

impl Clusters {
    /// The registry, with `local` the controller's own cluster.
    #[must_use]
    pub fn new(
        local: Arc<LiveState>,
        app_namespace: String,
        wake: UnboundedSender<ObjectRef<StoredApplication>>,
    ) -> Self {
        Self {
            local,
            app_namespace,
            wake,
            remote: Mutex::default(),
        }
    }

    /// The controller's own cluster.
    #[must_use]
    pub fn local(&self) -> Arc<LiveState> {
        self.local.clone()
    }

    /// The live state of a cluster resolved before (`None`: not resolved, or its Secret went).
    #[must_use]
    pub fn cached(&self, server: &str) -> Option<Arc<LiveState>> {
        if server == IN_CLUSTER_SERVER {
            return Some(self.local.clone());
        }
        self.remote.lock().get(server).map(|r| r.live.clone())
    }

    /// The cluster `server` or `name` names among `secrets` (the local one when both are empty).
    ///
    /// # Errors
    /// Both set, a cluster no Secret declares, or a Secret whose credentials cannot make a client.
    pub async fn resolve(&self, secrets: &[Arc<Secret>], server: &str, name: &str) -> Result<Resolved, String> {
        let declared = self.declared(secrets);
        self.forget_gone(&declared);
        if !server.is_empty() && !name.is_empty() {
            return Err("spec.destination: set the server or the name of the cluster, not both".into());
        }
        let local = |name: Option<&str>| Resolved {
            server: IN_CLUSTER_SERVER.into(),
            name: name.unwrap_or(IN_CLUSTER_NAME).into(),
            live: self.local.clone(),
        };
        let found = if server.is_empty() && name.is_empty() {
            return Ok(local(None));
        } else if server.is_empty() {
            declared.iter().find(|(_, c)| c.name == name)
        } else {
            declared.iter().find(|(_, c)| c.server == server)
        };
        match found {
            Some((_, c)) if c.server == IN_CLUSTER_SERVER => Ok(local(Some(&c.name))),
            None if server == IN_CLUSTER_SERVER || name == IN_CLUSTER_NAME => Ok(local(None)),
            None => Err(format!(
                "spec.destination: cluster {:?} is not known: no cluster Secret (label argocd.argoproj.io/secret-type: cluster) in {} declares it",
                if server.is_empty() { name } else { server },
                self.app_namespace
            )),
            Some((secret, c)) => Ok(Resolved {
                server: c.server.clone(),
                name: c.name.clone(),
                live: self.remote_for(secret, &c.server).await?,
            }),
        }
    }

    /// The clusters the cluster Secrets of the Applications' namespace declare.
    fn declared<'a>(&self, secrets: &'a [Arc<Secret>]) -> Vec<(&'a Secret, Cluster)> {
        secrets
            .iter()
            .filter(|s| s.namespace().as_deref() == Some(self.app_namespace.as_str()))
            .filter_map(|s| Cluster::from_secret(s).map(|c| (&**s, c)))
            .collect()
    }

    /// The server URL the destination `server` or `name` stands for, without connecting (a name
    /// no Secret declares stands for itself).
    #[must_use]
    pub fn server_for(&self, secrets: &[Arc<Secret>], server: &str, name: &str) -> String {
        if !server.is_empty() {
            return server.to_owned();
        }
        if name.is_empty() {
            return IN_CLUSTER_SERVER.to_owned();
        }
        self.declared(secrets)
            .into_iter()
            .map(|(_, c)| c)
            .find(|c| c.name == name)
            .map_or_else(
                || {
                    if name == IN_CLUSTER_NAME {
                        IN_CLUSTER_SERVER.to_owned()
                    } else {
                        name.to_owned()
                    }
                },
                |c| c.server,
            )
    }

    /// Whether the cluster at `server` answers (the local one always does), as last asked; `app`
    /// is woken when that changes.
    pub async fn reachable(&self, server: &str, app: &str) -> Result<(), String> {
        let (live, probe) = {
            let remotes = self.remote.lock();
            let Some(remote) = remotes.get(server) else {
                return Ok(());
            };
            (remote.live.clone(), remote.probe.clone())
        };
        let last = {
            let mut probe = probe.lock();
            probe.users.insert(app.to_owned());
            probe.last.clone()
        };
        match last {
            Some(answer) => answer,
            None => {
                let answer = ask(&live, server).await;
                probe.lock().last = Some(answer.clone());
                answer
            }
        }
    }

    async fn remote_for(&self, secret: &Secret, server: &str) -> Result<Arc<LiveState>, String> {
        let version = secret.resource_version().unwrap_or_default();
        if let Some(remote) = self.remote.lock().get(server).filter(|r| r.version == version) {
            return Ok(remote.live.clone());
        }
        let client = cluster_config::client(secret).await?;
        let live = Arc::new(LiveState::new(client, self.app_namespace.clone(), self.wake.clone()));
        tracing::info!(server, "connected a cluster");
        let probe = Arc::new(Mutex::new(Probe::default()));
        let watchdog = tokio::spawn(watch(
            live.clone(),
            probe.clone(),
            server.to_owned(),
            self.app_namespace.clone(),
            self.wake.clone(),
        ));
        self.remote.lock().insert(
            server.to_owned(),
            Remote {
                version,
                live: live.clone(),
                probe,
                watchdog,
            },
        );
        Ok(live)
    }

    /// Drops the clusters whose Secret is gone (their watches stop).
    fn forget_gone(&self, declared: &[(&Secret, Cluster)]) {
        self.remote.lock().retain(|server, _| {
            let kept = declared.iter().any(|(_, c)| c.server == *server);
            if !kept {
                tracing::info!(server, "dropped a cluster: its Secret is gone");
            }
            kept
        });
    }
}

/// Asks the cluster every [`RECHECK`] whether it answers; when the answer changes, its
/// Applications are reconciled (to Unknown, or back).
async fn watch(
    live: Arc<LiveState>,
    probe: Arc<Mutex<Probe>>,
    server: String,
    app_namespace: String,
    wake: UnboundedSender<ObjectRef<StoredApplication>>,
) {
    loop {
        tokio::time::sleep(RECHECK).await;
        let answer = ask(&live, &server).await;
        let users = {
            let mut probe = probe.lock();
            let changed = probe.last.as_ref().map(Result::is_ok) != Some(answer.is_ok());
            probe.last = Some(answer.clone());
            if !changed {
                continue;
            }
            probe.users.clone()
        };
        match &answer {
            Ok(()) => tracing::info!(server, "the cluster answers again"),
            Err(error) => tracing::warn!(server, %error, "the cluster does not answer"),
        }
        for app in users {
            let _ = wake.send(ObjectRef::new(&app).within(&app_namespace));
        }
    }
}
