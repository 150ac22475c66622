//! Writing the Application: its status as a JSON merge patch of only what changed (removed fields
//! as `null`), then its own metadata and `operation` in one patch; both guarded by the
//! resourceVersion the decision was made on, so an idle Application writes nothing and a decision
//! made on a stale copy fails with 409 instead of overwriting newer state.
//!
//! An operation's intent is written before it acts ([`Written::record`] ahead of the actions), as
//! Argo CD's `processRequestedAppOperation` persists the Running state before `SyncAppState`: a
//! reconcile that saw an old copy of the Application then stops at the 409, before it applies
//! anything, instead of applying and losing the record of it.

use crds::gitops::{ApplicationStatus, StoredApplication};
use crds::keys::REFRESH_ANNOTATION;
use gitops::revert::keep_out::REVERTED_TEMPLATES_ANNOTATION;
use kube::api::Patch;
use kube::{Api, ResourceExt as _};
use serde_json::{Map, Value, json};

use super::context::AppContext;
use super::decide::revert::HEALTHY_REVISION_ANNOTATION;
use super::plan::{Action, Decision};
use super::snapshot::Snapshot;
use crate::{Error, ObjectKey, Result, params, status_patch};

/// The Application as last written by this reconcile: its status and resourceVersion.
#[derive(Debug)]
pub struct Written {
    status: Value,
    resource_version: Option<String>,
    /// API writes made.
    pub writes: u32,
}

fn key(ctx: &AppContext, snap: &Snapshot) -> ObjectKey {
    ObjectKey::namespaced("Application", &ctx.runtime.settings.namespace, snap.name())
}

fn api(ctx: &AppContext) -> Api<StoredApplication> {
    Api::namespaced(ctx.base.client.clone(), &ctx.runtime.settings.namespace)
}

fn serialize(ctx: &AppContext, snap: &Snapshot, status: Option<&ApplicationStatus>) -> Result<Value> {
    status_patch::serialize(status, || key(ctx, snap))
}

impl Written {
    /// The Application as observed.
    ///
    /// # Errors
    /// When the status cannot be serialized.
    pub fn observed(ctx: &AppContext, snap: &Snapshot) -> Result<Self> {
        Ok(Self {
            status: serialize(ctx, snap, snap.app.status.as_ref())?,
            resource_version: snap.app.resource_version(),
            writes: 0,
        })
    }

    /// Writes `status` when it differs from what was last written.
    ///
    /// # Errors
    /// API failures (a 409 when the Application changed since it was observed).
    pub async fn record(&mut self, ctx: &AppContext, snap: &Snapshot, status: &ApplicationStatus) -> Result<()> {
        let new = serialize(ctx, snap, Some(status))?;
        if crate::merge_patch::diff(&self.status, &new).is_none() {
            return Ok(());
        }
        ctx.base.metrics.app_requests.inc();
        let rv = self.resource_version.clone();
        let written = status_patch::write(&api(ctx), snap.name(), rv, &self.status, &new, || key(ctx, snap)).await?;
        if let Some(written) = written {
            self.resource_version = written.resource_version();
        }
        self.status = new;
        self.writes += 1;
        Ok(())
    }

    /// Writes the Application's own metadata the decision asks for (the refresh annotation
    /// removed, the known-good revision) and clears `operation` once it started, in one patch.
    ///
    /// # Errors
    /// API failures (a 409 when the Application changed since it was observed).
    pub async fn finish(&mut self, ctx: &AppContext, snap: &Snapshot, decision: &Decision) -> Result<()> {
        let mut annotations = Map::new();
        for action in &decision.actions {
            match action {
                Action::ClearRefresh => {
                    annotations.insert(REFRESH_ANNOTATION.into(), Value::Null);
                }
                Action::MarkHealthy { revision } => {
                    annotations.insert(HEALTHY_REVISION_ANNOTATION.into(), revision.clone().into());
                }
                Action::KeepOut { annotation } => {
                    annotations.insert(REVERTED_TEMPLATES_ANNOTATION.into(), annotation.clone().into());
                }
                _ => {}
            }
        }
        if annotations.is_empty() && !decision.clear_operation {
            return Ok(());
        }
        let mut patch = json!({"metadata": {"resourceVersion": self.resource_version}});
        if !annotations.is_empty() {
            patch["metadata"]["annotations"] = Value::Object(annotations);
        }
        if decision.clear_operation {
            patch["operation"] = Value::Null;
        }
        ctx.base.metrics.app_requests.inc();
        let written = api(ctx)
            .patch(snap.name(), &params::patch(), &Patch::Merge(&patch))
            .await
            .map_err(|e| Error::kube("writing the metadata and operation of", key(ctx, snap), e))?;
        self.resource_version = written.resource_version();
        self.writes += 1;
        Ok(())
    }
}
