//! The AnalysisRun controller: measures metrics on schedule and judges them.
//!
//! Reconcile = observe (the run, its arguments) → decide (`analysis::run`, pure) → execute
//! (measure through the providers) → write status, events and the next wake-up.

mod args;
mod measure;
mod reconcile;
mod write;

use std::sync::Arc;

use analysis::providers::job::RUN_UID_LABEL;
use crds::AnalysisRun;
use futures::StreamExt;
use k8s_openapi::api::batch::v1::Job;
use kube::Api;
use kube::runtime::Controller;
use kube::runtime::watcher;

pub use reconcile::{error_policy, reconcile};

use crate::Context;

/// Runs the controller until the stream ends (on shutdown). With `instance_id`, only runs labelled
/// `argo-rollouts.argoproj.io/controller-instance-id=ID` are handled; without, only unlabelled ones.
pub async fn run(ctx: Context, namespace: Option<&str>, instance_id: Option<&str>) {
    let (runs, jobs): (Api<AnalysisRun>, Api<Job>) = match namespace {
        Some(ns) => (
            Api::namespaced(ctx.client.clone(), ns),
            Api::namespaced(ctx.client.clone(), ns),
        ),
        None => (Api::all(ctx.client.clone()), Api::all(ctx.client.clone())),
    };
    let selector = crate::rollout::instance_selector(instance_id);
    Controller::new(runs, watcher::Config::default().labels(&selector))
        .owns(jobs, watcher::Config::default().labels(RUN_UID_LABEL))
        .run(reconcile, error_policy, Arc::new(ctx))
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(%error, "analysisrun controller stream");
            }
        })
        .await;
}
