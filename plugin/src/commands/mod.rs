//! The commands that talk to a cluster.

pub mod create;
pub mod get;
pub mod mutate;
pub mod objects;
pub mod status;
