//! Writing what a reconcile decided: status by server-side apply, Events, TTL deletion.

use analysis::run::RunEvent;
use crds::AnalysisRun;
use crds::analysis::AnalysisRunStatus;
use kube::api::{DeleteParams, Patch, PatchParams};
use kube::{Api, Resource as _};

use crate::events::Note;
use crate::{Context, Error, Result};

/// The field manager Sluice writes AnalysisRun status with.
const MANAGER: &str = "sluice-analysis";

/// Applies `status` to the run's status subresource.
pub(super) async fn status(ctx: &Context, namespace: &str, name: &str, status: &AnalysisRunStatus) -> Result<()> {
    let api: Api<AnalysisRun> = Api::namespaced(ctx.client.clone(), namespace);
    let patch = serde_json::json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisRun",
        "metadata": {"name": name, "namespace": namespace},
        "status": status,
    });
    api.patch_status(name, &PatchParams::apply(MANAGER).force(), &Patch::Apply(&patch))
        .await
        .map_err(|e| Error::kube(format!("writing status of analysisrun {namespace}/{name}"), e))?;
    Ok(())
}

/// Publishes events; a failure to record one is logged, not fatal.
pub(super) async fn events(ctx: &Context, run: &AnalysisRun, events: &[RunEvent]) {
    let notes: Vec<Note<'_>> = events
        .iter()
        .map(|e| Note {
            warning: e.warning,
            reason: &e.reason,
            message: &e.message,
        })
        .collect();
    crate::events::publish(&ctx.recorder, &run.object_ref(&()), "Analysis", &notes).await;
}

/// Deletes a run whose TTL expired.
pub(super) async fn delete(ctx: &Context, namespace: &str, name: &str) -> Result<()> {
    let api: Api<AnalysisRun> = Api::namespaced(ctx.client.clone(), namespace);
    match api.delete(name, &DeleteParams::background()).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(e) => Err(Error::kube(
            format!("deleting expired analysisrun {namespace}/{name}"),
            e,
        )),
    }
}
