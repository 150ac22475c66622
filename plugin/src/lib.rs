//! `kubectl-sluice`'s library: the Application views (`app_view`), the rollout view and the patches each command makes (pure, tested
//! without a cluster), and watching a Rollout's family; shared with `sluice demo`.

pub mod app_tree;
pub mod app_view;
pub mod appset_view;
pub mod expiry;
pub mod family;
pub mod health;
pub mod lint;
pub mod patches;
pub mod view;
pub mod watch;
