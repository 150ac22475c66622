//! Sluice's reconcilers as a library: Rollouts ([`rollout`]) and AnalysisRuns ([`analysisrun`]),
//! what they share (context, clock, errors, metrics, the HTTP endpoint, write parameters), and the
//! [`manager`] that runs them under leader election with one stop signal.
//!
//! Every reconciler folder has the same shape: `mod.rs` (watches and wiring), `context.rs`,
//! `reconcile.rs` (observe → decide → execute → status), `observe.rs`, `decide` (pure),
//! `execute.rs` and `status.rs`.

pub mod analysisrun;
pub mod application;
pub mod applicationset;
pub mod context;
pub mod error;
pub mod events;
pub mod manager;
pub mod merge_patch;
pub mod metrics;
pub mod owner_index;
pub mod read;
pub mod requeue;
pub mod rollout;
pub mod server;
pub mod watches;

pub use context::Context;
/// The clock every reconciler reads (defined in `crds` so that every crate shares it).
pub use crds::clock;
/// The parameters of every write (each names the field manager `sluice`).
pub use crds::params;
pub use error::{Error, ErrorKind, ObjectKey, Result};
