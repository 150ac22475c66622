//! A local Kubernetes API server and workload simulator, for tests and the demo.
//!
//! The product never depends on it: everything in Sluice talks to Kubernetes over HTTP through
//! `kube` clients, so it runs the same against this simulator and a real cluster. Start one with
//! [`Sim::start`]; point any client at [`Sim::kubeconfig_yaml`].

// The simulator plays the cluster, whose clock is the machine's (as kube-apiserver's and the
// kubelet's are): the workspace's rule that time comes from a handed-in Clock is the product's.
#![allow(clippy::disallowed_methods)]

pub mod api;
pub mod prometheus;
mod server;
pub mod tls;
pub mod webhook;
pub mod workloads;

pub use server::{Sim, SimError, SimOptions, client_from_kubeconfig};
