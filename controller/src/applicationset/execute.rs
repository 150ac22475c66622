//! Executing an ApplicationSet's decision: each Application server-side applied (field manager
//! `sluice`) or deleted, one at a time; a write that fails is reported and the others still go.

use crds::gitops::StoredApplication;
use crds::keys::RESOURCES_FINALIZER;
use kube::api::{DeleteParams, Patch};
use kube::{Api, ResourceExt as _};
use serde_json::json;

use super::context::AppSetContext;
use super::plan::{Action, Event};
use super::snapshot::Snapshot;
use crate::error::ObjectKey;
use crate::{Error, Result, params};

/// What the writes did: an Event per write, and the writes that failed.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Events for the writes made and the ones that failed.
    pub events: Vec<Event>,
    /// `(reason, message)` of each failed write.
    pub failures: Vec<(&'static str, String)>,
    /// Writes made.
    pub writes: usize,
}

fn key(snap: &Snapshot, name: &str) -> ObjectKey {
    ObjectKey::namespaced("Application", &snap.appset.namespace().unwrap_or_default(), name)
}

/// Makes the writes of `actions`.
///
/// # Errors
/// A conflict (the Application changed since it was observed), retried at once.
pub async fn actions(ctx: &AppSetContext, snap: &Snapshot, actions: &[Action]) -> Result<Outcome> {
    let namespace = snap.appset.namespace().unwrap_or_default();
    let api: Api<StoredApplication> = Api::namespaced(ctx.runtime.base.client.clone(), &namespace);
    let mut outcome = Outcome::default();
    for action in actions {
        ctx.runtime.base.metrics.app_requests.inc();
        let (name, done, reason) = match action {
            Action::Apply { name, object, create } => {
                let done = api.patch(name, &params::apply(), &Patch::Apply(object)).await.map(drop);
                let (verb, reason) = if *create {
                    ("Created", "CreateApplicationError")
                } else {
                    ("Updated", "UpdateApplicationError")
                };
                (name, done.map(|()| verb), reason)
            }
            Action::Delete { name, strip_finalizer } => (
                name,
                delete(&api, name, *strip_finalizer).await,
                "DeleteApplicationError",
            ),
        };
        match done {
            Ok(verb) => {
                outcome.writes += 1;
                outcome
                    .events
                    .push(Event::normal(verb, format!("{verb} Application {name}")));
            }
            Err(kube::Error::Api(status)) if status.code == 409 => {
                return Err(Error::kube("writing", key(snap, name), kube::Error::Api(status)));
            }
            Err(error) => {
                let message = format!("Application {name}: {error}");
                outcome.events.push(Event::warning(reason, message.clone()));
                outcome.failures.push((reason, message));
            }
        }
    }
    Ok(outcome)
}

async fn delete(api: &Api<StoredApplication>, name: &str, strip_finalizer: bool) -> kube::Result<&'static str> {
    if strip_finalizer {
        let live = api.get(name).await?;
        let kept: Vec<String> = live
            .finalizers()
            .iter()
            .filter(|f| !f.starts_with(RESOURCES_FINALIZER))
            .cloned()
            .collect();
        let patch = json!({"metadata": {"finalizers": kept, "resourceVersion": live.resource_version()}});
        api.patch(name, &params::patch(), &Patch::Merge(&patch)).await?;
    }
    match api.delete(name, &DeleteParams::default()).await {
        Ok(_) => Ok("Deleted"),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok("Deleted"),
        Err(error) => Err(error),
    }
}
