//! The Rollout controller: moves each new version of a Rollout's pods through canary steps or a
//! blue-green switch, exactly as Argo Rollouts does (see `../shared/reference/argo-rollouts.md`
//! section b).
//!
//! Reconcile = observe ([`observe`]: the Rollout, its ReplicaSets, AnalysisRuns, Services and
//! templates from watch caches) → decide ([`decide`], pure) → execute ([`execute`], idempotent
//! writes) → write the status only when it changed.

pub mod decide;
pub mod execute;
pub mod identity;
pub mod labels;
pub mod observe;
pub mod plan;
pub mod reconcile;
pub mod replicas;
pub mod snapshot;
mod wiring;

pub use decide::decide;
pub use wiring::{RolloutContext, instance_selector, run};
