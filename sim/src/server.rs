//! Starting and stopping a simulator, and the kubeconfig that reaches it.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::http::uri as http_uri;
use base64::Engine;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::api::auth::{ADMIN_TOKEN, Auth, Tokens, UserInfo};
use crate::api::{App, router};
use crate::tls::{self, Tls, TlsError};

/// Errors starting or describing a simulator.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The listening socket could not be opened.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The requested address.
        addr: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// TLS could not be set up.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// A client could not be built.
    #[error("cannot build a client for the simulator: {0}")]
    Client(String),
    /// The kubeconfig could not be written.
    #[error("cannot write kubeconfig {path}")]
    Kubeconfig {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// A client for whatever API server a kubeconfig file names (its current context), for running the
/// workload simulator against another process or a real cluster.
///
/// # Errors
/// [`SimError::Client`] when the file cannot be read or the client built.
pub async fn client_from_kubeconfig(path: &Path) -> Result<kube::Client, SimError> {
    let kubeconfig =
        kube::config::Kubeconfig::read_from(path).map_err(|e| SimError::Client(format!("{}: {e}", path.display())))?;
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &kube::config::KubeConfigOptions::default())
        .await
        .map_err(|e| SimError::Client(format!("{}: {e}", path.display())))?;
    kube::Client::try_from(config).map_err(|e| SimError::Client(e.to_string()))
}

/// How to start a simulator.
#[derive(Clone, Debug)]
pub struct SimOptions {
    /// Address to listen on (`127.0.0.1:0` picks a free port).
    pub addr: String,
    /// Serve HTTPS with a freshly generated CA.
    pub https: bool,
    /// Check bearer tokens and RBAC (the simulator's own kubeconfig and [`Sim::client`] carry
    /// an administrator's token). Implies `https`: clients send tokens over TLS only.
    pub authz: bool,
    /// More tokens: (token, user).
    pub tokens: Vec<(String, UserInfo)>,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            addr: "127.0.0.1:0".into(),
            https: false,
            authz: false,
            tokens: Vec::new(),
        }
    }
}

impl SimOptions {
    fn auth(&self) -> Auth {
        Auth {
            enabled: self.authz,
            tokens: Tokens::new(self.tokens.clone()),
        }
    }
}

/// A running simulated cluster. Dropping it stops the server.
#[derive(Debug)]
pub struct Sim {
    app: Arc<App>,
    addr: SocketAddr,
    tls: Option<Tls>,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Sim {
    /// Starts a simulator over plain HTTP on a free port of 127.0.0.1.
    ///
    /// # Errors
    /// [`SimError::Bind`] when no port can be opened.
    pub async fn start() -> Result<Self, SimError> {
        Self::start_on("127.0.0.1:0", false).await
    }

    /// Starts a simulator on the given address (`127.0.0.1:0` picks a free port), over HTTPS with a
    /// freshly generated CA when `https` is true.
    ///
    /// # Errors
    /// [`SimError::Bind`] when the address cannot be opened, [`SimError::Tls`] when certificates
    /// cannot be generated.
    pub async fn start_on(addr: &str, https: bool) -> Result<Self, SimError> {
        Self::start_with(&SimOptions {
            addr: addr.to_owned(),
            https,
            ..SimOptions::default()
        })
        .await
    }

    /// Starts a simulator with `options`.
    ///
    /// # Errors
    /// As [`Self::start_on`].
    pub async fn start_with(options: &SimOptions) -> Result<Self, SimError> {
        // Clients send bearer tokens over TLS only (client-go drops them on plain HTTP).
        let (addr, https) = (options.addr.as_str(), options.https || options.authz);
        crate::tls::ensure_crypto_provider();
        let bind_err = |source| SimError::Bind {
            addr: addr.to_owned(),
            source,
        };
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(bind_err)?;
        let local = listener.local_addr().map_err(bind_err)?;
        let app = Arc::new(App::new(local.to_string(), options.auth()));
        let shared = app.clone();
        let (tx, rx) = oneshot::channel::<()>();
        let tls = if https { Some(tls::generate()?) } else { None };
        let task = match &tls {
            None => tokio::spawn(async move {
                let serve = axum::serve(listener, router(app)).with_graceful_shutdown(async {
                    let _ = rx.await;
                });
                if let Err(err) = serve.await {
                    tracing::error!(%err, "simulated API server stopped");
                }
            }),
            Some(tls) => {
                let std_listener = listener.into_std().map_err(bind_err)?;
                let config = axum_server::tls_rustls::RustlsConfig::from_config(tls.server_config.clone());
                let server = axum_server::from_tcp_rustls(std_listener, config).map_err(bind_err)?;
                let handle = axum_server::Handle::new();
                let stopper = handle.clone();
                tokio::spawn(async move {
                    let _ = rx.await;
                    stopper.graceful_shutdown(None);
                });
                tokio::spawn(async move {
                    if let Err(err) = server.handle(handle).serve(router(app).into_make_service()).await {
                        tracing::error!(%err, "simulated API server stopped");
                    }
                })
            }
        };
        Ok(Self {
            app: shared,
            addr: local,
            tls,
            shutdown: Some(tx),
            task,
        })
    }

    /// Routes a Service to a URL, for the webhooks whose `clientConfig.service` names it (the
    /// simulator has no cluster network to reach a Service through).
    pub fn route_service(&self, namespace: &str, name: &str, url: &str) {
        self.app
            .services
            .lock()
            .insert((namespace.to_owned(), name.to_owned()), url.to_owned());
    }

    /// How many requests the server has answered.
    #[must_use]
    pub fn requests(&self) -> u64 {
        self.app.requests.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The address the server listens on.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's base URL.
    #[must_use]
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// A `kube` client for this server (trusting its CA over HTTPS), with `default` as its namespace.
    ///
    /// # Errors
    /// [`SimError::Client`] when the client cannot be built.
    pub fn client(&self) -> Result<kube::Client, SimError> {
        self.client_as(ADMIN_TOKEN)
    }

    /// A `kube` client for this server that authenticates with `token`.
    ///
    /// # Errors
    /// [`SimError::Client`] when the client cannot be built.
    pub fn client_as(&self, token: &str) -> Result<kube::Client, SimError> {
        let url = self
            .url()
            .parse()
            .map_err(|e: http_uri::InvalidUri| SimError::Client(e.to_string()))?;
        let mut config = kube::Config::new(url);
        if let Some(tls) = &self.tls {
            config.root_cert = Some(vec![tls.ca_der.clone()]);
        }
        config.auth_info.token = Some(secrecy::SecretString::from(token.to_owned()));
        kube::Client::try_from(config).map_err(|e| SimError::Client(e.to_string()))
    }

    /// A kubeconfig like [`Self::kubeconfig_yaml`] whose user authenticates with `token`.
    #[must_use]
    pub fn kubeconfig_yaml_as(&self, token: &str) -> String {
        self.kubeconfig_yaml()
            .replace(&format!("token: {ADMIN_TOKEN}\n"), &format!("token: {token}\n"))
    }

    /// A kubeconfig with a context named `sluice-sim` that reaches this server. Its user carries
    /// the administrator's token (checked only when the simulator runs with authorization).
    #[must_use]
    pub fn kubeconfig_yaml(&self) -> String {
        let ca = self.tls.as_ref().map_or_else(String::new, |tls| {
            format!(
                "    certificate-authority-data: {}\n",
                base64::engine::general_purpose::STANDARD.encode(&tls.ca_pem)
            )
        });
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: sluice-sim\n  cluster:\n    server: {url}\n{ca}users:\n- name: sluice-sim\n  user:\n    token: {ADMIN_TOKEN}\ncontexts:\n- name: sluice-sim\n  context:\n    cluster: sluice-sim\n    user: sluice-sim\n    namespace: default\ncurrent-context: sluice-sim\n",
            url = self.url()
        )
    }

    /// Writes [`Self::kubeconfig_yaml`] to a file.
    ///
    /// # Errors
    /// [`SimError::Kubeconfig`] when the file cannot be written.
    pub fn write_kubeconfig(&self, path: &Path) -> Result<(), SimError> {
        std::fs::write(path, self.kubeconfig_yaml()).map_err(|source| SimError::Kubeconfig {
            path: path.display().to_string(),
            source,
        })
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.task.abort();
    }
}
