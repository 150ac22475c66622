//! Fixtures shared by the integration tests: a simulated cluster with the controller running
//! in-process (talking to it over HTTP like any client), and series pushed into Prometheus.

// Test support: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod cluster;
pub mod git;
pub mod metrics;
pub mod recorder;
pub mod revert;
pub mod rollouts;
pub mod series;
pub mod serve;
pub mod traffic;
pub mod wait;
