//! The processes of this binary's internal commands the scenarios start: their CPU and memory
//! from `/proc`, and the bare reflector that is the memory floor.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::harness::{Cluster, until};

/// A process of this binary's internal commands; killed when dropped.
pub struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Process {
    /// Starts this binary with `args`, its output discarded.
    ///
    /// # Panics
    /// When it cannot be started.
    #[must_use]
    pub fn spawn<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Self {
        let child = Command::new(std::env::current_exe().expect("this binary"))
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the process starts");
        Self(child)
    }

    /// CPU seconds it used so far.
    #[must_use]
    pub fn cpu_seconds(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.0.id())).unwrap_or_default();
        let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or_default().split_whitespace().collect();
        let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
        (ticks(11) + ticks(12)) / 100.0
    }

    /// Its resident memory, MiB.
    #[must_use]
    pub fn rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.0.id())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    }
}

/// A bare kube-rs reflector process over some kinds (this binary's `reflector` command).
pub struct Reflector(Process);

impl Reflector {
    /// Starts reflectors over `kinds` (`group/version/Kind`) of `cluster` and waits until they
    /// have listed.
    ///
    /// # Panics
    /// When they do not list within ten minutes.
    pub async fn listed(cluster: &Cluster, kinds: &[&str]) -> Self {
        let ready = cluster.dir.path().join("reflector-listed");
        let _ = std::fs::remove_file(&ready);
        let mut args = vec![
            "reflector".to_owned(),
            "--kubeconfig".to_owned(),
            cluster.kubeconfig().display().to_string(),
            "--ready-file".to_owned(),
            ready.display().to_string(),
        ];
        for kind in kinds {
            args.extend(["--kind".to_owned(), (*kind).to_owned()]);
        }
        let process = Process::spawn(&args);
        let listed = until(Duration::from_secs(600), Duration::from_millis(100), || async {
            ready.exists()
        });
        assert!(listed.await.is_some(), "the reflectors did not list");
        Self(process)
    }

    /// Its resident memory, MiB.
    #[must_use]
    pub fn rss_mib(&self) -> f64 {
        self.0.rss_mib()
    }
}
