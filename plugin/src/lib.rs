//! `kubectl-sluice`'s library: the rollout view and the patches each command makes (pure, tested
//! without a cluster), and watching a Rollout's family; shared with `sluice demo`.

pub mod family;
pub mod health;
pub mod lint;
pub mod patches;
pub mod view;
pub mod watch;
