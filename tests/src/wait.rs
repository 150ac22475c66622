//! Waiting for a cluster, a process or a remote to get somewhere, as the tests and the benchmark do.

use std::time::{Duration, Instant};

/// Checks `check` every `every` until it holds: when it did, or `None` once `timeout` passed.
pub async fn until<F: std::future::Future<Output = bool>>(
    timeout: Duration,
    every: Duration,
    mut check: impl FnMut() -> F,
) -> Option<Instant> {
    let deadline = crds::clock::stopwatch() + timeout;
    loop {
        if check().await {
            return Some(crds::clock::stopwatch());
        }
        if crds::clock::stopwatch() >= deadline {
            return None;
        }
        tokio::time::sleep(every).await;
    }
}
