//! A Rollout and the objects it owns (ReplicaSets, their pods, AnalysisRuns).

use crds::{AnalysisRun, Rollout};
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::view::{Inputs, View, build};

/// A Rollout and what it owns.
#[derive(Clone, Debug, Default)]
pub struct Family {
    /// The Rollout.
    pub rollout: Rollout,
    /// Its ReplicaSets.
    pub replicasets: Vec<ReplicaSet>,
    /// Their pods.
    pub pods: Vec<Pod>,
    /// Its AnalysisRuns.
    pub runs: Vec<AnalysisRun>,
}

fn owned_by(meta: &ObjectMeta, uids: &[String]) -> bool {
    meta.owner_references.iter().flatten().any(|o| uids.contains(&o.uid))
}

impl Family {
    /// Keeps, of the namespace's objects, those that belong to `rollout`.
    #[must_use]
    pub fn of(rollout: Rollout, replicasets: &[ReplicaSet], pods: &[Pod], runs: &[AnalysisRun]) -> Self {
        let uid = vec![rollout.metadata.uid.clone().unwrap_or_default()];
        let replicasets: Vec<ReplicaSet> = replicasets
            .iter()
            .filter(|r| owned_by(&r.metadata, &uid))
            .cloned()
            .collect();
        let rs_uids: Vec<String> = replicasets.iter().filter_map(|r| r.metadata.uid.clone()).collect();
        Self {
            pods: pods
                .iter()
                .filter(|p| owned_by(&p.metadata, &rs_uids))
                .cloned()
                .collect(),
            runs: runs.iter().filter(|r| owned_by(&r.metadata, &uid)).cloned().collect(),
            replicasets,
            rollout,
        }
    }

    /// Its view at `now`.
    #[must_use]
    pub fn view(&self, now: jiff::Timestamp) -> View {
        build(&Inputs {
            rollout: &self.rollout,
            replicasets: &self.replicasets,
            pods: &self.pods,
            runs: &self.runs,
            now,
        })
    }
}
