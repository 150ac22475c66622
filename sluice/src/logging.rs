//! The process's log subscriber: installed by the binary, never by the controller library (a
//! library that installs the global subscriber takes that choice away from whoever embeds it).

/// Logs to standard error, filtered by `RUST_LOG` (else `default`).
pub fn init(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
