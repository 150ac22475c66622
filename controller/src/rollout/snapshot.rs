//! Everything a Rollout decision looks at, read from the cluster beforehand so that deciding is a
//! pure function of this snapshot and the time.

use std::collections::BTreeMap;

use crds::analysis::AnalysisTemplateSpec;
use crds::rollout::TemplateRef;
use crds::{AnalysisRun, Rollout};
use jiff::Timestamp;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{Pod, Service};

/// The observed world of one Rollout.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// The Rollout.
    pub rollout: Rollout,
    /// Its namespace (every object of the snapshot lives there).
    pub namespace: String,
    /// ReplicaSets it controls, plus ReplicaSets without a controller that its selector matches
    /// (to adopt).
    pub replicasets: Vec<ReplicaSet>,
    /// AnalysisRuns it controls.
    pub runs: Vec<AnalysisRun>,
    /// The Services it names, by name (absent when they do not exist).
    pub services: BTreeMap<String, Service>,
    /// The analysis templates it references (absent when they do not exist).
    pub templates: BTreeMap<TemplateRef, AnalysisTemplateSpec>,
    /// The traffic router objects it drives, as read from the API server (absent when they do
    /// not exist).
    pub routes: crate::rollout::traffic::Objects,
    /// What could not be read (an answer other than 404): while any is here, nothing is decided.
    pub unreadable: Vec<crate::read::Unreadable>,
    /// Its pods; only read while a restart is pending.
    pub pods: Vec<Pod>,
    /// The time of the decision.
    pub now: Timestamp,
    /// Since when this controller has held back a status with only moving replica counts (none
    /// when it wrote the last one; see `decide::coalesce`).
    pub counts_held_since: Option<Timestamp>,
}
