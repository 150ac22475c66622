//! A `sluice sim` process and real `kubectl` against it, for the tests that run both as processes.

#![allow(dead_code)] // each test file uses a part

pub mod gitops;
pub mod scenario;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// A `sluice sim` process, killed when dropped.
pub struct SimProcess {
    child: Child,
    pub dir: tempfile::TempDir,
}

impl SimProcess {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    pub fn start_with(extra: &[&str]) -> Self {
        Self::start_at("127.0.0.1:0", extra)
    }

    /// [`Self::start_with`] on the address `addr`.
    pub fn start_at(addr: &str, extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        let child = Command::new(env!("CARGO_BIN_EXE_sluice"))
            .args(["sim", "--addr", addr])
            .args(extra)
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        // The guard exists before any assertion, so a failure still stops the process.
        let mut sim = Self { child, dir };
        let mut first = String::new();
        let mut reader = BufReader::new(sim.child.stdout.take().unwrap());
        reader.read_line(&mut first).unwrap();
        let scheme = if extra.contains(&"--tls") || extra.contains(&"--authz") {
            "https"
        } else {
            "http"
        };
        assert!(
            first.starts_with(&format!(
                "sluice sim: serving the Kubernetes API on {scheme}://127.0.0.1:"
            )),
            "{first}"
        );
        // Keep draining stdout so the server never writes into a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        sim
    }

    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    /// Runs kubectl with this server's kubeconfig and a private cache, optionally feeding stdin.
    pub fn kubectl(&self, args: &[&str], stdin: Option<&str>) -> Output {
        self.kubectl_bin(Path::new("kubectl"), args, stdin)
    }

    /// Runs the kubectl binary `bin` (e.g. an older version) like [`Self::kubectl`].
    pub fn kubectl_bin(&self, bin: &Path, args: &[&str], stdin: Option<&str>) -> Output {
        let mut child = Command::new(bin)
            .args(args)
            .arg("--cache-dir")
            .arg(self.dir.path().join("cache"))
            .env("KUBECONFIG", self.kubeconfig())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubectl must be installed (scripts/test-all.sh installs it)");
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            // kubectl may exit before reading everything; its exit status tells what happened.
            let _ = input.write_all(text.as_bytes());
        }
        drop(input);
        child.wait_with_output().unwrap()
    }

    pub fn kubectl_ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.kubectl(args, stdin);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "kubectl {args:?} failed: {stderr}");
        String::from_utf8(out.stdout).unwrap()
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The versioned kubectl binaries beside the `kubectl` on PATH (`kubectl.1.27`...), as the
/// machine image ships them.
pub fn versioned_kubectl(version: &str) -> PathBuf {
    let dispatcher = std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join("kubectl"))
                .find(|p| p.is_file())
        })
        .expect("kubectl must be on PATH");
    let real = std::fs::canonicalize(&dispatcher).unwrap();
    let bin = real.with_file_name(format!("kubectl.{version}"));
    assert!(
        bin.is_file(),
        "{} is missing: the machine image ships kubectl {version} beside kubectl",
        bin.display()
    );
    bin
}
