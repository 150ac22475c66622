//! Writing what a reconcile decided about a run: its status by server-side apply to the status
//! subresource (field manager `sluice`), and its Events.
//!
//! The one reconciler that does not write its status as `crate::status_patch` does (a merge patch
//! guarded by the resourceVersion), on purpose: a status here carries measurements just taken from
//! a provider, which cannot be taken again unchanged. A guard would throw them away whenever the
//! run changed meanwhile (the Rollout terminating it, a label added), and the next reconcile would
//! measure again: one measurement too many against `count` and `failureLimit`. Only this
//! reconciler writes the run's status, so the forced apply loses nothing another writer set.

use crds::AnalysisRun;
use crds::analysis::AnalysisRunStatus;
use crds::events::Event;
use kube::api::Patch;
use kube::{Api, Resource as _};

use super::context::AnalysisRunContext;
use crate::{Error, ObjectKey, Result, params};

/// Applies `status` to the run's status subresource.
///
/// # Errors
/// API failures.
pub async fn write(ctx: &AnalysisRunContext, namespace: &str, name: &str, status: &AnalysisRunStatus) -> Result<()> {
    let api: Api<AnalysisRun> = Api::namespaced(ctx.base.client.clone(), namespace);
    let patch = serde_json::json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisRun",
        "metadata": {"name": name, "namespace": namespace},
        "status": status,
    });
    api.patch_status(name, &params::apply(), &Patch::Apply(&patch))
        .await
        .map_err(|e| {
            Error::kube(
                "writing the status of",
                ObjectKey::namespaced("AnalysisRun", namespace, name),
                e,
            )
        })?;
    Ok(())
}

/// Publishes events; a failure to record one is logged, not fatal.
pub async fn events(ctx: &AnalysisRunContext, run: &AnalysisRun, events: &[Event]) {
    crate::events::publish(&ctx.base.recorder, &run.object_ref(&()), "Analysis", events).await;
}
