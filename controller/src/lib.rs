//! Sluice's reconcilers as a library: Rollouts ([`rollout`]), AnalysisRuns ([`analysisrun`]),
//! Applications ([`application`]) and ApplicationSets ([`applicationset`]); the GitOps runtime the
//! last two share ([`runtime`]: repositories, credentials, clusters, live state, polling,
//! webhooks); what every reconciler shares (context, clock, errors, metrics, reads, the HTTP
//! endpoint, write parameters, [`scope`], [`shutdown`]); and the [`manager`] that starts them all
//! under leader election with one stop signal. Reconcilers import only the leaf modules, never the
//! manager, and the manager imports them: no cycle.
//!
//! Every reconciler folder has the same shape and verbs: `mod.rs` (watches and wiring),
//! `context.rs`, `reconcile.rs` (observe → decide → execute → status), `observe.rs` (builds the
//! `snapshot.rs` it decides on; only a 404 is absent, see [`read`]), `decide/` (pure, with its
//! table tests in `decide/tests/`; `decide::settle` is the second decision, on what execute did),
//! `plan.rs` (what a decision asks for), `execute.rs` (idempotent writes) and `status.rs` (the
//! status written as [`status_patch`] does, guarded by the resourceVersion; AnalysisRuns say in
//! their file why they apply instead). Files beyond these are the reconciler's own topics
//! (`rollout/traffic/`, `application/compare.rs`, ...).

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
pub mod runtime;
pub mod scope;
pub mod server;
pub mod shutdown;
pub mod status_patch;
pub mod watches;

pub use context::Context;
/// The clock every reconciler reads (defined in `crds` so that every crate shares it).
pub use crds::clock;
/// The parameters of every write (each names the field manager `sluice`).
pub use crds::params;
pub use error::{Error, ErrorKind, ObjectKey, Result};
