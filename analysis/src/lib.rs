//! Analysis: Argo's condition language, the metric providers, and the AnalysisRun logic.
//!
//! This crate is pure decision logic plus provider clients; it does not talk to Kubernetes.
