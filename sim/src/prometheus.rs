//! A real Prometheus server (Debian's `prometheus`) for tests and the demo: started in the
//! foreground on 127.0.0.1 with its own config and data folder and the remote-write receiver,
//! stopped when dropped.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Why Prometheus could not be started.
#[derive(Debug, thiserror::Error)]
pub enum PrometheusError {
    /// The config or data folder could not be made.
    #[error("cannot prepare the Prometheus folder")]
    Folder(#[source] std::io::Error),
    /// The binary could not be started.
    #[error("cannot start `prometheus` (scripts/test-all.sh installs Debian's package)")]
    Spawn(#[source] std::io::Error),
    /// It did not answer /-/ready in time.
    #[error("prometheus did not become ready at {0}")]
    NotReady(String),
}

/// A running Prometheus server.
#[derive(Debug)]
pub struct PrometheusServer {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl PrometheusServer {
    /// Starts a server on a free loopback port and waits until it is ready.
    ///
    /// # Errors
    /// [`PrometheusError`] when it cannot be started or does not become ready within 20 s.
    pub async fn start() -> Result<Self, PrometheusError> {
        crate::tls::ensure_crypto_provider();
        let dir = tempfile::tempdir().map_err(PrometheusError::Folder)?;
        let config = dir.path().join("prometheus.yml");
        std::fs::write(&config, "global:\n  scrape_interval: 15s\n").map_err(PrometheusError::Folder)?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(PrometheusError::Folder)?
            .port();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--web.enable-remote-write-receiver")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(PrometheusError::Spawn)?;
        let server = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        };
        let client = reqwest::Client::new();
        for _ in 0..200 {
            let ready = client.get(format!("{}/-/ready", server.url)).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return Ok(server);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(PrometheusError::NotReady(server.url.clone()))
    }

    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The remote-write endpoint.
    pub fn remote_write_url(&self) -> String {
        format!("{}/api/v1/write", self.url)
    }
}

impl Drop for PrometheusServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
