//! The workload simulator: the parts of a cluster that make workloads live (a kubelet, the
//! ReplicaSet controller), acting only through the Kubernetes API like any other client, so it works
//! against the simulated API server or a real one.

pub mod behaviour;
pub mod deployment;
pub mod endpoints;
pub mod job;
pub mod kubelet;
pub mod metrics;
pub mod metrics_server;
pub mod podsets;
pub mod remote_write;
pub mod replicaset;
pub mod runner;
pub mod service_index;
pub mod traffic;
