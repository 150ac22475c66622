//! Time limits of waiting commands (`status --timeout`, `app wait --timeout`), as a sleep rather than
//! a deadline read off a clock, so no command reads the system clock to wait.

use std::time::Duration;

/// Completes once `limit` has passed; never, without a limit.
pub async fn expiry(limit: Option<Duration>) {
    match limit {
        Some(limit) => tokio::time::sleep(limit).await,
        None => std::future::pending().await,
    }
}
