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

/// Observes with `observe` every `every` until `done` holds on what it saw, and returns that; at
/// the timeout, panics naming `what` and showing the last observation. The one deadline loop of
/// the test suites (waits that return the state, or say what it was when they gave up).
pub async fn until_state<T: std::fmt::Debug, F: std::future::Future<Output = T>>(
    what: &str,
    timeout: Duration,
    every: Duration,
    mut observe: impl FnMut() -> F,
    done: impl Fn(&T) -> bool,
) -> T {
    let deadline = crds::clock::stopwatch() + timeout;
    loop {
        let seen = observe().await;
        if done(&seen) {
            return seen;
        }
        assert!(
            crds::clock::stopwatch() < deadline,
            "timed out after {timeout:?} waiting for {what}; last seen:\n{seen:#?}"
        );
        tokio::time::sleep(every).await;
    }
}
