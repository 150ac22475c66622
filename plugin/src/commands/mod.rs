//! The commands that talk to a cluster.

pub mod app;
pub mod app_diff;
pub mod app_revert;
pub mod appset;
pub mod create;
pub mod get;
pub mod mutate;
pub mod objects;
pub mod status;
