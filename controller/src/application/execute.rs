//! Carrying out a decision's actions, each idempotent: server-side apply with field manager
//! `sluice` (an apply seeds the comparison cache with what it wrote), hook creation (with
//! `generateName`), deletions with the asked propagation, the destination namespace, and the
//! Application's own finalizer (its annotations and `operation` go with the status, in
//! `status.rs`). A refused apply is an outcome the
//! decision settles (the operation fails with the API server's message), not a reconcile error.

use std::sync::Arc;

use futures::StreamExt as _;

use crds::gitops::StoredApplication;
use crds::keys::{RESOURCES_FINALIZER, RESOURCES_FINALIZER_BACKGROUND};
use kube::api::{DeleteParams, DynamicObject, Patch, PropagationPolicy};
use kube::{Api, ResourceExt as _};
use serde_json::{Value, json};

use super::context::{AppContext, SelfHeal};
use super::plan::{Action, Outcome, Propagation};
use super::snapshot::Snapshot;
use crate::runtime::live::LiveState;
use crate::{Error, ObjectKey, Result, params};

/// How many applies of one step are in flight at once.
const CONCURRENT_APPLIES: usize = 8;

fn key(object: &Value) -> String {
    let mut k = gitops::tracking::ResourceKey::of(object);
    if k.name.is_empty() {
        k.name = object
            .pointer("/metadata/generateName")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
    }
    k.to_string()
}

fn message(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) => status.message.clone(),
        other => other.to_string(),
    }
}

fn app_key(snap: &Snapshot) -> ObjectKey {
    ObjectKey::namespaced(
        "Application",
        snap.app.metadata.namespace.as_deref().unwrap_or_default(),
        snap.name(),
    )
}

/// Carries out `actions` in order.
///
/// # Errors
/// When the Application itself cannot be written (finalizer, annotation).
pub async fn actions(ctx: &Arc<AppContext>, snap: &Snapshot, actions: &[Action]) -> Result<Outcome> {
    let mut outcome = Outcome::default();
    // The destination's live state, as observed (`None`: the cluster went since).
    let cluster = snap
        .cluster
        .as_ref()
        .ok()
        .and_then(|c| ctx.runtime.clusters.cached(&c.server));
    let cluster = cluster.as_deref();
    let requests = &ctx.base.metrics.app_requests;
    let mut rest = actions;
    while let Some(action) = rest.first() {
        // Applies of one kind in a row are independent: they go out together.
        let same_kind = |a: &Action| matches!((a, action), (Action::Apply { desired: x, .. }, Action::Apply { desired: y, .. }) if x["kind"] == y["kind"]);
        let batch = rest.iter().take_while(|a| same_kind(a)).count();
        if batch > 1 {
            let applies: Vec<_> = rest[..batch]
                .iter()
                .map(|a| apply_owned(ctx, cluster, a.clone()))
                .collect();
            let results: Vec<(String, Result<(), String>)> = futures::stream::iter(applies)
                .buffered(CONCURRENT_APPLIES)
                .collect()
                .await;
            for (resource, result) in results {
                match result {
                    Ok(()) => outcome.writes += 1,
                    Err(reason) => outcome.failures.push((resource, reason)),
                }
            }
            rest = &rest[batch..];
            continue;
        }
        rest = &rest[1..];
        match action {
            Action::Apply {
                desired,
                replace,
                validate,
            } => {
                requests.inc();
                match apply(ctx, cluster, desired, *replace, *validate).await {
                    Ok(()) => outcome.writes += 1,
                    Err(reason) => outcome.failures.push((key(desired), reason)),
                }
            }
            Action::CreateHook { hook } => {
                requests.inc();
                match create(cluster, hook).await {
                    Ok(name) => {
                        outcome.writes += 1;
                        outcome.created_hooks.push((key(hook), name));
                    }
                    Err(reason) => outcome.failures.push((key(hook), reason)),
                }
            }
            Action::Delete { live, propagation } => {
                requests.inc();
                if let Err(reason) = delete(cluster, live, *propagation).await {
                    outcome.failures.push((key(live), reason));
                } else {
                    outcome.writes += 1;
                }
            }
            Action::CreateNamespace {
                name,
                labels,
                annotations,
            } => {
                requests.inc();
                let namespace = json!({
                    "apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": name, "labels": labels, "annotations": annotations},
                });
                if let Err(reason) = apply(ctx, cluster, &namespace, false, true).await {
                    outcome.failures.push((key(&namespace), reason));
                }
            }
            Action::RemoveFinalizer => {
                requests.inc();
                let kept: Vec<String> = snap
                    .app
                    .finalizers()
                    .iter()
                    .filter(|f| *f != RESOURCES_FINALIZER && *f != RESOURCES_FINALIZER_BACKGROUND)
                    .cloned()
                    .collect();
                let patch = json!({"metadata": {"finalizers": kept, "resourceVersion": snap.app.resource_version()}});
                patch_app(ctx, snap, &patch, "removing the resources finalizer of").await?;
            }
            // Written with the status, in the Application's own patch (`status::Written::finish`).
            Action::ClearRefresh | Action::MarkHealthy { .. } | Action::KeepOut { .. } => {}
            Action::Revert {
                branch,
                reverts,
                squash,
            } => {
                outcome.revert = Some(revert(ctx, snap, branch, reverts, squash.as_deref()).await);
            }
            Action::RecordSelfHeal { revision } => {
                let uid = snap.app.uid().unwrap_or_default();
                let mut map = ctx.self_heal.lock();
                let entry = map.entry(uid).or_default();
                let attempts = if entry.revision == *revision {
                    entry.attempts + 1
                } else {
                    1
                };
                *entry = SelfHeal {
                    revision: revision.clone(),
                    attempts,
                    last: Some(snap.now),
                };
            }
        }
    }
    Ok(outcome)
}

/// Reverts and pushes on a blocking thread, then fetches so the next reconcile sees the revert.
async fn revert(
    ctx: &Arc<AppContext>,
    snap: &Snapshot,
    branch: &str,
    reverts: &[gitops::revert::Revert],
    squash: Option<&str>,
) -> (bool, String) {
    let Some(url) = snap.app.spec.primary_source().map(|s| s.repo_url.clone()) else {
        return (false, "no source".into());
    };
    // Pushing prefers write credentials (`repository-write`); the fetch afterwards reads.
    let (access, read) = match (
        crate::runtime::render::write_access(&ctx.runtime, &url),
        crate::runtime::render::access(&ctx.runtime, &url),
    ) {
        (Ok(write), Ok(read)) => (write, read),
        (Err(e), _) | (_, Err(e)) => return (false, e.into_message()),
    };
    let culprits: Vec<repo::revert::Culprit> = reverts.iter().map(Into::into).collect();
    let started = ctx.base.clock.now();
    let (shared, branch, squash) = (ctx.clone(), branch.to_owned(), squash.map(str::to_owned));
    let task = tokio::task::spawn_blocking(move || {
        let (name, email) = &shared.runtime.settings.git_author;
        let request = repo::revert::Request {
            url: &url,
            access: &access,
            branch: &branch,
            culprits: &culprits,
            author_name: name,
            author_email: email,
            attempts: 10,
            squash: squash.as_deref(),
        };
        let result = repo::revert::revert_and_push(&shared.runtime.repos, &request);
        let _ = shared
            .runtime
            .repos
            .fetch(&url, &read, shared.runtime.repos.fetch_count(&url));
        match result {
            Ok(repo::revert::Pushed::Branch(tip)) => (true, format!("pushed {} to {branch}", &tip[..tip.len().min(7)])),
            Ok(repo::revert::Pushed::Aside { branch: aside, reason }) if aside.is_empty() => (false, reason),
            Ok(repo::revert::Pushed::Aside { branch: aside, reason }) => (
                false,
                format!("{reason}; the revert is on branch {aside} for a pull request"),
            ),
            Err(e) => (false, e.to_string()),
        }
    });
    let outcome = task.await.unwrap_or_else(|e| (false, e.to_string()));
    let took = ctx.base.clock.now().duration_since(started);
    ctx.base.metrics.revert_duration.observe(took.as_secs_f64().max(0.0));
    let result = if outcome.0 { "pushed" } else { "failed" };
    ctx.base
        .metrics
        .reverts
        .get_or_create(&crate::metrics::ResultLabels { result })
        .inc();
    outcome
}

/// One apply of a batch, owning what it needs.
async fn apply_owned(ctx: &AppContext, cluster: Option<&LiveState>, action: Action) -> (String, Result<(), String>) {
    let Action::Apply {
        desired,
        replace,
        validate,
    } = action
    else {
        return (String::new(), Ok(()));
    };
    ctx.base.metrics.app_requests.inc();
    let result = apply(ctx, cluster, &desired, replace, validate).await;
    (key(&desired), result)
}

async fn patch_app(ctx: &AppContext, snap: &Snapshot, patch: &Value, verb: &'static str) -> Result<()> {
    let api: Api<StoredApplication> = Api::namespaced(ctx.base.client.clone(), &ctx.runtime.settings.namespace);
    api.patch(snap.name(), &params::patch(), &Patch::Merge(patch))
        .await
        .map_err(|e| Error::kube(verb, app_key(snap), e))?;
    Ok(())
}

async fn api_for(cluster: Option<&LiveState>, object: &Value) -> Result<Api<DynamicObject>, String> {
    let cluster = cluster.ok_or("the destination cluster is gone")?;
    let api_version = object["apiVersion"].as_str().unwrap_or_default();
    let kind_name = object["kind"].as_str().unwrap_or_default();
    let kind = cluster
        .kind(api_version, kind_name)
        .await
        .ok_or_else(|| format!("the server does not serve {kind_name} in {api_version}"))?;
    let namespace = object.pointer("/metadata/namespace").and_then(Value::as_str);
    Ok(cluster.api(&kind, namespace))
}

async fn apply(
    ctx: &AppContext,
    cluster: Option<&LiveState>,
    desired: &Value,
    replace: bool,
    validate: bool,
) -> Result<(), String> {
    let api = api_for(cluster, desired).await?;
    let name = desired
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let object: DynamicObject = serde_json::from_value(desired.clone()).map_err(|e| e.to_string())?;
    let written = if replace {
        match api.replace(name, &params::create(), &object).await {
            Err(kube::Error::Api(s)) if s.code == 404 => api.create(&params::create(), &object).await,
            other => other,
        }
    } else {
        let mut params = params::apply();
        if !validate {
            params.field_validation = Some(kube::api::ValidationDirective::Ignore);
        }
        api.patch(name, &params, &Patch::Apply(desired)).await
    }
    .map_err(|e| message(&e))?;
    if let Ok(value) = serde_json::to_value(&written) {
        ctx.comparisons.seed(desired, &value);
    }
    Ok(())
}

async fn create(cluster: Option<&LiveState>, hook: &Value) -> Result<String, String> {
    let api = api_for(cluster, hook).await?;
    let object: DynamicObject = serde_json::from_value(hook.clone()).map_err(|e| e.to_string())?;
    match api.create(&params::create(), &object).await {
        Ok(created) => Ok(created.name_any()),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(object.name_any()),
        Err(e) => Err(message(&e)),
    }
}

async fn delete(cluster: Option<&LiveState>, live: &Value, propagation: Propagation) -> Result<(), String> {
    let api = api_for(cluster, live).await?;
    let name = live
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let params = DeleteParams {
        propagation_policy: Some(match propagation {
            Propagation::Foreground => PropagationPolicy::Foreground,
            Propagation::Background => PropagationPolicy::Background,
            Propagation::Orphan => PropagationPolicy::Orphan,
        }),
        ..DeleteParams::default()
    };
    match api.delete(name, &params).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(e) => Err(message(&e)),
    }
}
