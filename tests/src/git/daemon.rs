//! `git daemon --enable=receive-pack --listen=127.0.0.1` serving a folder over `git://`.
//!
//! The daemon binary (`git-daemon` in git's exec path) is started itself, not through the `git`
//! wrapper: killing the wrapper would leave the daemon running after the test.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A running `git daemon`; killed on drop.
pub struct GitDaemon {
    child: Child,
    port: u16,
    root: PathBuf,
}

impl GitDaemon {
    /// Serves every repository under `root` (read and push).
    pub fn start(root: &Path) -> Self {
        let port = super::free_port();
        let exec_path = Command::new("git").arg("--exec-path").output().expect("git runs");
        let exec_path = String::from_utf8_lossy(&exec_path.stdout).trim().to_owned();
        let child = Command::new(Path::new(&exec_path).join("git-daemon"))
            .args([
                "--reuseaddr",
                "--export-all",
                "--enable=receive-pack",
                "--listen=127.0.0.1",
                &format!("--port={port}"),
                &format!("--base-path={}", root.display()),
                &root.display().to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("git daemon starts");
        super::wait_listening(port);
        Self {
            child,
            port,
            root: root.to_path_buf(),
        }
    }

    /// The `git://` URL of repository `name.git`.
    pub fn url(&self, name: &str) -> String {
        format!("git://127.0.0.1:{}/{name}.git", self.port)
    }

    /// The folder served.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
