//! The Sluice controller: reconcilers for Argo's resources, and what they share (context,
//! errors, metrics, the HTTP endpoint).

pub mod analysisrun;
pub mod context;
pub mod error;
pub mod events;
pub mod requeue;
pub mod rollout;
pub mod server;
pub mod telemetry;

pub use context::Context;
pub use error::{Error, ErrorKind, Result};
