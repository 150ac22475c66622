//! `sshd` on 127.0.0.1 (Debian's openssh-server, started in the foreground with its own config,
//! host key and authorized key) serving the repositories under a folder over `ssh://`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A running `sshd`; killed on drop.
pub struct GitSsh {
    child: Child,
    port: u16,
    root: PathBuf,
    /// The client's private key (PEM), authorized for `root`.
    pub private_key: String,
    /// The host's public key line (`ssh-rsa AAAA...`).
    pub host_key: String,
}

fn keygen(path: &Path) {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "rsa", "-b", "2048", "-m", "PEM", "-N", ""])
        .arg("-f")
        .arg(path)
        .status()
        .expect("ssh-keygen runs");
    assert!(status.success());
}

impl GitSsh {
    /// Serves `root` (repositories by absolute path) to the generated client key.
    pub fn start(root: &Path, state: &Path) -> Self {
        std::fs::create_dir_all(state).unwrap();
        std::fs::create_dir_all("/run/sshd").unwrap();
        let (host, user) = (state.join("host_key"), state.join("user_key"));
        keygen(&host);
        keygen(&user);
        std::fs::copy(state.join("user_key.pub"), state.join("authorized_keys")).unwrap();
        let port = super::free_port();
        let config = state.join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nPidFile {}\nAuthorizedKeysFile {}\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\nPermitRootLogin yes\nStrictModes no\nUsePAM no\n",
                host.display(),
                state.join("sshd.pid").display(),
                state.join("authorized_keys").display()
            ),
        )
        .unwrap();
        let child = Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sshd (openssh-server) must be installed: scripts/test-all.sh installs it");
        super::wait_listening(port);
        let host_line = std::fs::read_to_string(state.join("host_key.pub")).unwrap();
        let host_key = host_line.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
        Self {
            child,
            port,
            root: root.to_path_buf(),
            private_key: std::fs::read_to_string(&user).unwrap(),
            host_key,
        }
    }

    /// The `ssh://` URL of repository `name.git`.
    pub fn url(&self, name: &str) -> String {
        format!("ssh://root@127.0.0.1:{}{}/{name}.git", self.port, self.root.display())
    }

    /// A `known_hosts` line for this server.
    pub fn known_hosts_line(&self) -> String {
        format!("[127.0.0.1]:{} {}", self.port, self.host_key)
    }
}

impl Drop for GitSsh {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
