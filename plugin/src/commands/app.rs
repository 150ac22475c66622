//! `app list|get|sync|history|wait`: Applications as Argo CD's CLI shows and drives them (the
//! list as a tree of ApplicationSets and parent Applications), through
//! the Kubernetes API only (a sync is the `operation` field the controller acts on).

use crds::gitops::{ApplicationSet, StoredApplication};
use futures::StreamExt as _;
use kube::api::{ListParams, Patch};
use kube::runtime::{WatchStreamExt as _, watcher};
use kube::{Api, Client};
use plugin::app_view::{self, Wait};
use serde_json::json;

use super::get::print_as;
use crate::cli::Output;
use crate::cluster::{Call, CliError};

fn call<'a>(verb: &'static str, name: &'a str, namespace: &'a str) -> Call<'a> {
    Call {
        verb,
        resource: "applications",
        kind: "application",
        name,
        namespace,
    }
}

/// Reads an Application.
///
/// # Errors
/// Not found, forbidden, unreachable.
pub async fn read(client: &Client, namespace: &str, name: &str) -> Result<StoredApplication, CliError> {
    let api: Api<StoredApplication> = Api::namespaced(client.clone(), namespace);
    api.get(name).await.map_err(|e| call("get", name, namespace).fail(e))
}

/// `app list [-A]`.
///
/// # Errors
/// API failures.
pub async fn list(client: &Client, namespace: &str, all: bool, output: Option<Output>) -> Result<(), CliError> {
    let api: Api<StoredApplication> = if all {
        Api::all(client.clone())
    } else {
        Api::namespaced(client.clone(), namespace)
    };
    let apps = api
        .list(&ListParams::default())
        .await
        .map_err(|e| call("list", "", namespace).fail(e))?
        .items;
    if let Some(output) = output {
        return print_as(&apps, output);
    }
    // ApplicationSets draw the tree; without them (not installed, not readable) it is flatter.
    let sets: Api<ApplicationSet> = if all {
        Api::all(client.clone())
    } else {
        Api::namespaced(client.clone(), namespace)
    };
    let sets = sets
        .list(&ListParams::default())
        .await
        .map(|l| l.items)
        .unwrap_or_default();
    print!("{}", app_view::list(&apps, &sets, all));
    Ok(())
}

/// `app get NAME`.
///
/// # Errors
/// Not found, API failures.
pub async fn get(client: &Client, namespace: &str, name: &str, output: Option<Output>) -> Result<(), CliError> {
    let app = read(client, namespace, name).await?;
    if let Some(output) = output {
        return print_as(&app, output);
    }
    print!("{}", app_view::get(&app));
    Ok(())
}

/// `app history NAME`.
///
/// # Errors
/// Not found, API failures.
pub async fn history(client: &Client, namespace: &str, name: &str) -> Result<(), CliError> {
    print!("{}", app_view::history(&read(client, namespace, name).await?));
    Ok(())
}

fn timeout_of(text: Option<&str>) -> Result<Option<std::time::Duration>, CliError> {
    text.map(|t| {
        crds::duration::parse(t)
            .ok()
            .and_then(crds::duration::Duration::to_std)
            .ok_or_else(|| CliError::Other(format!("invalid timeout '{t}'")))
    })
    .transpose()
}

/// Watches the Application until `check` gives an outcome, or the timeout.
async fn until<T>(
    client: &Client,
    namespace: &str,
    name: &str,
    timeout: Option<std::time::Duration>,
    mut check: impl FnMut(&StoredApplication) -> Option<Result<T, CliError>>,
) -> Result<T, CliError> {
    let api: Api<StoredApplication> = Api::namespaced(client.clone(), namespace);
    let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
    let mut stream = Box::pin(watcher(api, config).default_backoff().applied_objects());
    let expired = plugin::expiry::expiry(timeout);
    tokio::pin!(expired);
    loop {
        let next = async {
            tokio::select! {
                () = &mut expired => None,
                event = stream.next() => Some(event),
            }
        };
        let Some(event) = next.await else {
            let app = read(client, namespace, name).await?;
            let why = match app_view::wait(&app, true, true) {
                Wait::Waiting(why) | Wait::Failed(why) => why,
                Wait::Done => "done".into(),
            };
            return Err(CliError::Other(format!("application '{name}' timed out: {why}")));
        };
        let Some(Ok(app)) = event else { continue };
        if let Some(outcome) = check(&app) {
            return outcome;
        }
    }
}

/// `app wait NAME [--health] [--sync] [-t T]`.
///
/// # Errors
/// Degraded, a failed sync, the timeout, API failures.
pub async fn wait(
    client: &Client,
    namespace: &str,
    name: &str,
    health: bool,
    sync: bool,
    timeout: Option<&str>,
) -> Result<(), CliError> {
    read(client, namespace, name).await?;
    let limit = timeout_of(timeout)?;
    let mut last = String::new();
    until(client, namespace, name, limit, |app| {
        match app_view::wait(app, health, sync) {
            Wait::Done => Some(Ok(())),
            Wait::Failed(why) => Some(Err(CliError::Other(format!("application '{name}': {why}")))),
            Wait::Waiting(why) => {
                if why != last {
                    println!("{why}");
                    last = why;
                }
                None
            }
        }
    })
    .await?;
    println!(
        "application '{name}' is {}",
        if health && !sync {
            "Healthy"
        } else if sync && !health {
            "Synced"
        } else {
            "Synced and Healthy"
        }
    );
    Ok(())
}

/// The arguments of `app sync`.
#[derive(Debug, Clone)]
pub struct SyncRequest {
    /// Prune.
    pub prune: bool,
    /// Revision.
    pub revision: Option<String>,
    /// Do not wait.
    pub no_wait: bool,
    /// Timeout of the wait.
    pub timeout: Option<String>,
    /// Deploy a reverted template kept out of automated syncs.
    pub allow_reverted: bool,
}

/// Why a sync is refused: the revision brings back a template Sluice reverted and keeps out
/// (`RevertedChangeBlocked`), and `--allow-reverted` was not given.
fn held_out(app: &StoredApplication, allow_reverted: bool) -> Option<String> {
    let blocked = app
        .status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == "RevertedChangeBlocked")?;
    let what = blocked
        .message
        .split("; automated sync")
        .next()
        .unwrap_or(&blocked.message);
    (!allow_reverted).then(|| format!("{what}; pass --allow-reverted to deploy it anyway"))
}

/// `app sync NAME [--prune] [--revision R] [--async] [--allow-reverted]`.
///
/// # Errors
/// Refused (a revision while automated sync is on, a reverted change without
/// `--allow-reverted`), a failed sync, API failures.
pub async fn sync(client: &Client, namespace: &str, name: &str, request: &SyncRequest) -> Result<(), CliError> {
    let app = read(client, namespace, name).await?;
    let automated = app
        .spec
        .sync_policy
        .as_ref()
        .and_then(|p| p.automated.as_ref())
        .is_some_and(|a| a.enabled != Some(false));
    if let Some(revision) = &request.revision
        && automated
    {
        return Err(CliError::Other(format!(
            "application '{name}': cannot sync to {revision}: automated sync follows the target revision (revert in Git, or turn automated sync off)"
        )));
    }
    if let Some(refused) = held_out(&app, request.allow_reverted) {
        return Err(CliError::Other(format!("application '{name}': {refused}")));
    }
    let before = app
        .status
        .as_ref()
        .and_then(|s| s.operation_state.as_ref())
        .and_then(|o| o.started_at.clone());
    let operation = json!({"operation": {
        "sync": {"prune": request.prune, "revision": request.revision},
        "initiatedBy": {"username": "kubectl-sluice"},
    }});
    let api: Api<StoredApplication> = Api::namespaced(client.clone(), namespace);
    api.patch(name, &crds::params::patch(), &Patch::Merge(&operation))
        .await
        .map_err(|e| call("patch", name, namespace).fail(e))?;
    if request.no_wait {
        println!("application '{name}': sync requested");
        return Ok(());
    }
    let limit = timeout_of(request.timeout.as_deref())?;
    let revision = until(client, namespace, name, limit, |app| {
        let op = app.status.as_ref().and_then(|s| s.operation_state.as_ref())?;
        if app.operation.is_some() || op.started_at == before {
            return None;
        }
        let revision = op.sync_result.as_ref().map(|r| r.revision.clone()).unwrap_or_default();
        match op.phase.as_str() {
            "Succeeded" => Some(Ok(revision)),
            "Failed" | "Error" => Some(Err(CliError::Other(format!(
                "application '{name}': sync to {} failed: {}",
                &revision[..revision.len().min(7)],
                op.message.clone().unwrap_or_default()
            )))),
            _ => None,
        }
    })
    .await?;
    println!("application '{name}' synced to {}", &revision[..revision.len().min(7)]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_out_change_needs_allow_reverted() {
        let app: StoredApplication = serde_json::from_value(json!({
            "metadata": {"name": "api"},
            "spec": {"destination": {}},
            "status": {"conditions": [{"type": "RevertedChangeBlocked",
                "message": "revision 2222222 brings back the pod template Sluice reverted: argoproj.io/Rollout/default/api (reverted with 3333333); automated sync keeps it out until ..."}]},
        }))
        .unwrap_or_default();
        let refused = held_out(&app, false).unwrap_or_default();
        assert_eq!(
            refused,
            "revision 2222222 brings back the pod template Sluice reverted: argoproj.io/Rollout/default/api (reverted with 3333333); pass --allow-reverted to deploy it anyway"
        );
        assert_eq!(held_out(&app, true), None);
        assert_eq!(held_out(&StoredApplication::default(), false), None);
    }
}
