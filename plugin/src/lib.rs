//! `kubectl-sluice`'s pure parts: the rollout view and the patches each command makes, so they can
//! be tested without a cluster and shared with `sluice demo`.

pub mod lint;
pub mod patches;
pub mod view;
