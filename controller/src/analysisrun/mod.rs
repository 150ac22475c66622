//! The AnalysisRun reconciler: measures metrics on schedule and judges them, as Argo Rollouts'
//! `analysis` controller does.
//!
//! Reconcile ([`reconcile`]) = observe ([`observe`]: the run compiled once, its arguments) →
//! decide ([`decide`], pure, over `analysis::run`) → execute ([`execute`]: measure through the
//! providers) → write the status and events ([`status`]). This file wires the watches.

pub mod context;
pub mod decide;
pub mod execute;
pub mod observe;
pub mod plan;
pub mod reconcile;
pub mod snapshot;
pub mod status;

use std::sync::Arc;

use analysis::providers::Providers;
use analysis::providers::job::RUN_UID_LABEL;
use crds::AnalysisRun;
use futures::StreamExt;
use k8s_openapi::api::batch::v1::Job;
use kube::runtime::watcher;

pub use context::AnalysisRunContext;
pub use snapshot::StartedRun;

use crate::Context;
use crate::scope::Scope;
use crate::shutdown::Shutdown;
use crate::watches::log_errors;

/// Runs the AnalysisRun reconciler until `shutdown` (in-flight reconciles finish first). It
/// handles the runs of its [`Scope`] and watches the measurement Jobs they own.
pub async fn run(ctx: Context, providers: Providers, scope: &Scope, shutdown: Shutdown) {
    let runs = scope.api::<AnalysisRun>(&ctx.client);
    let jobs = scope.api::<Job>(&ctx.client);
    let context = Arc::new(AnalysisRunContext::new(ctx, providers));
    crate::watches::controller(
        runs,
        watcher::Config::default().labels(&scope.instance_selector()),
        crate::watches::RECONCILES_IN_FLIGHT,
    )
    .owns(jobs, watcher::Config::default().labels(RUN_UID_LABEL))
    .graceful_shutdown_on(shutdown.wait())
    .run(reconcile::reconcile, reconcile::error_policy, context)
    .for_each(|result| log_errors("analysisrun", result))
    .await;
}
