//! Real Git servers on loopback for the GitOps tests, and a working copy to commit and push with
//! the real `git` command: `git daemon` for `git://` ([`daemon`]), `git http-backend` behind a
//! small HTTP server with basic auth ([`http`]) and `sshd` for `ssh://` ([`ssh`]). Every process is killed when its handle drops.

pub mod daemon;
pub mod http;
pub mod ssh;

use std::path::{Path, PathBuf};
use std::process::Command;

pub use daemon::GitDaemon;
pub use http::{Auth, GitHttp};
pub use ssh::GitSsh;

/// Runs `git args` in `dir`, returning its trimmed standard output; panics with git's error.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Test Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.com")
        .env("GIT_COMMITTER_NAME", "Test Author")
        .env("GIT_COMMITTER_EMAIL", "author@example.com")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A bare repository `name.git` under a served folder, and a working copy that pushes to it.
pub struct GitRepo {
    /// The bare repository.
    pub bare: PathBuf,
    /// The working copy.
    pub work: PathBuf,
}

impl GitRepo {
    /// Creates `root/name.git` (bare, default branch `main`) and a working copy beside it.
    pub fn create(root: &Path, name: &str) -> Self {
        let bare = root.join(format!("{name}.git"));
        std::fs::create_dir_all(&bare).unwrap();
        git(&bare, &["init", "-q", "--bare", "-b", "main"]);
        git(&bare, &["config", "http.receivepack", "true"]);
        let work = root.join(format!("{name}-work"));
        std::fs::create_dir_all(&work).unwrap();
        git(&work, &["init", "-q", "-b", "main"]);
        git(&work, &["remote", "add", "origin", bare.to_str().unwrap()]);
        Self { bare, work }
    }

    /// Writes `files` (path, content; empty content deletes), commits with `message`, pushes
    /// `main`, and returns the new commit's SHA.
    pub fn commit(&self, files: &[(&str, &str)], message: &str) -> String {
        for (path, content) in files {
            let file = self.work.join(path);
            if content.is_empty() {
                let _ = std::fs::remove_file(&file);
            } else {
                std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                std::fs::write(&file, content).unwrap();
            }
        }
        git(&self.work, &["add", "-A"]);
        git(&self.work, &["commit", "-q", "--allow-empty", "-m", message]);
        git(&self.work, &["push", "-q", "origin", "main"]);
        git(&self.work, &["rev-parse", "HEAD"])
    }

    /// Brings the working copy up to the remote's `main` (commits pushed by someone else).
    pub fn pull(&self) {
        git(&self.work, &["pull", "-q", "--ff-only", "origin", "main"]);
    }

    /// Tags HEAD (annotated when `message` is given) and pushes the tag.
    pub fn tag(&self, name: &str, message: Option<&str>) {
        match message {
            Some(m) => git(&self.work, &["tag", "-a", name, "-m", m]),
            None => git(&self.work, &["tag", name]),
        };
        git(&self.work, &["push", "-q", "origin", name]);
    }
}

/// A free port on 127.0.0.1 (bound, then released for the server to take).
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until something listens on `port`.
pub(crate) fn wait_listening(port: u16) {
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    panic!("nothing listens on 127.0.0.1:{port}");
}
