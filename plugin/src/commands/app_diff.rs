//! `app diff NAME`: what a sync would change, as `argocd app diff` shows it. The source is
//! fetched and rendered here (the `repo` crate, credentials from the Application namespace's
//! repository Secrets when readable), each object is prepared as the controller applies it and
//! predicted by a server-side apply dry run, and `gitops::diff` removes what does not count before
//! the unified diff. Exit 1 when anything differs.

use std::time::Duration;

use crds::gitops::StoredApplication;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{DynamicObject, GroupVersionKind, ListParams, Patch};
use kube::core::discovery::Scope;
use kube::{Api, Client, ResourceExt as _};
use repo::credentials::{RepoSecret, SECRET_TYPE_LABEL};
use repo::remote::Access;
use serde_json::Value;

use super::app::read;
use crate::cluster::CliError;

/// The access for `url` from the repository Secrets this user may read.
pub async fn access(client: &Client, namespace: &str, url: &str) -> Result<Access, CliError> {
    access_for(client, namespace, url, false).await
}

/// The access for pushing to `url`: write credentials (`repository-write`) first.
///
/// # Errors
/// A matching Secret whose credentials cannot be used.
pub async fn write_access(client: &Client, namespace: &str, url: &str) -> Result<Access, CliError> {
    access_for(client, namespace, url, true).await
}

async fn access_for(client: &Client, namespace: &str, url: &str, write: bool) -> Result<Access, CliError> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    // Reading Secrets may be forbidden to this user: then public repositories still work.
    let secrets = api
        .list(&ListParams::default().labels(SECRET_TYPE_LABEL))
        .await
        .map(|l| l.items)
        .unwrap_or_default();
    let secrets: Vec<RepoSecret> = secrets
        .iter()
        .filter_map(|s| RepoSecret::from_secret(&s.name_any(), s.labels(), crds::secrets::fields(s)))
        .collect();
    // SSH host keys as the controller reads them; a user who may not read the ConfigMap gets
    // none, and an SSH repository then fails its host key check with a message saying so.
    let hosts: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(client.clone(), namespace);
    let hosts = hosts
        .get_opt(repo::credentials::KNOWN_HOSTS_CONFIGMAP)
        .await
        .ok()
        .flatten();
    let known_hosts = hosts
        .iter()
        .filter_map(|c| c.data.as_ref()?.get(repo::credentials::KNOWN_HOSTS_KEY))
        .map(String::as_str);
    repo::credentials::resolve(url, &secrets, known_hosts, write).map_err(CliError::Other)
}

/// Renders the Application's source at `revision` (blocking work on a blocking thread).
async fn render(app: &StoredApplication, access: Access) -> Result<Vec<Value>, CliError> {
    let source = app
        .spec
        .primary_source()
        .cloned()
        .ok_or_else(|| CliError::Other("the Application has no source".into()))?;
    let revision = app
        .status
        .as_ref()
        .and_then(|s| s.sync.as_ref())
        .and_then(|s| s.revision.clone())
        .or_else(|| source.target_revision.clone())
        .unwrap_or_else(|| "HEAD".into());
    let namespace = app.spec.destination.namespace.clone().unwrap_or_default();
    let name = app.name_any();
    let task = tokio::task::spawn_blocking(move || {
        let dir = std::env::temp_dir().join(format!("kubectl-sluice-diff-{}", std::process::id()));
        let result = (|| {
            let cache = repo::RepoCache::new(dir.join("cache")).map_err(|e| e.to_string())?;
            cache.fetch(&source.repo_url, &access, 0).map_err(|e| e.to_string())?;
            let sha = cache.resolve(&source.repo_url, &revision).map_err(|e| e.to_string())?;
            let tree = dir.join("tree");
            cache.export(&source.repo_url, &sha, &tree).map_err(|e| e.to_string())?;
            let options = repo::source::render_options(&source, &namespace, Duration::from_secs(90));
            repo::render::render(&tree, source.path.as_deref().unwrap_or_default(), &name, &options)
                .map(|r| r.objects)
                .map_err(|e| e.to_string())
        })();
        let _ = std::fs::remove_dir_all(&dir);
        result
    });
    task.await
        .map_err(|e| CliError::Other(e.to_string()))?
        .map_err(CliError::Other)
}

async fn api_for(client: &Client, object: &Value, namespace: &str) -> Option<(Api<DynamicObject>, bool)> {
    let api_version = object["apiVersion"].as_str()?;
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let gvk = GroupVersionKind::gvk(group, version, object["kind"].as_str()?);
    let (resource, caps) = kube::discovery::pinned_kind(client, &gvk).await.ok()?;
    let namespaced = caps.scope == Scope::Namespaced;
    let ns = object
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or(namespace);
    Some(if namespaced {
        (Api::namespaced_with(client.clone(), ns, &resource), true)
    } else {
        (Api::all_with(client.clone(), &resource), false)
    })
}

fn title(object: &Value) -> String {
    gitops::tracking::ResourceKey::of(object).to_string()
}

/// `app diff NAME`: prints the diff; `true` when something differs.
///
/// # Errors
/// Not found, Git or render failures, API failures.
pub async fn diff(client: &Client, namespace: &str, name: &str) -> Result<bool, CliError> {
    let app = read(client, namespace, name).await?;
    let source_url = app
        .spec
        .source
        .as_ref()
        .or_else(|| app.spec.sources.first())
        .map(|s| s.repo_url.clone())
        .unwrap_or_default();
    let objects = render(&app, access(client, namespace, &source_url).await?).await?;
    let destination = app.spec.destination.namespace.clone().unwrap_or_default();
    let rules = &app.spec.ignore_differences;
    let mut differs = false;
    let mut out = String::new();
    for object in &objects {
        if gitops::sync::annotations::hook_types(object).is_some() {
            continue;
        }
        let Some((api, namespaced)) = api_for(client, object, &destination).await else {
            out.push_str(&format!("=== {}: the server does not serve this kind\n", title(object)));
            differs = true;
            continue;
        };
        let desired = gitops::tracking::prepare(object, namespaced, &destination, name);
        let object_name = desired
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let live = api
            .get_opt(object_name)
            .await
            .ok()
            .flatten()
            .and_then(|o| serde_json::to_value(o).ok());
        let predicted = match &live {
            None => desired.clone(),
            Some(_) => {
                let params = crds::params::apply_dry_run();
                match api.patch(object_name, &params, &Patch::Apply(&desired)).await {
                    Ok(p) => serde_json::to_value(p).unwrap_or(Value::Null),
                    Err(e) => {
                        out.push_str(&format!("=== {}: the dry run was refused: {e}\n", title(&desired)));
                        differs = true;
                        continue;
                    }
                }
            }
        };
        let reference = live.clone().unwrap_or_else(|| predicted.clone());
        let normal = |v: &Value| {
            gitops::diff::normalize(v, &reference, rules)
                .map_err(|e| CliError::Other(format!("{}: {}", e.field, e.message)))
        };
        let live_shown = live.as_ref().map(normal).transpose()?;
        let text = gitops::diff::unified(&title(&desired), live_shown.as_ref(), Some(&normal(&predicted)?));
        if !text.is_empty() {
            differs = true;
            out.push_str(&format!("=== {}\n{text}", title(&desired)));
        }
    }
    for extra in app
        .status
        .iter()
        .flat_map(|s| &s.resources)
        .filter(|r| r.requires_pruning == Some(true))
    {
        differs = true;
        let kind = if extra.group.is_empty() {
            extra.kind.clone()
        } else {
            format!("{}/{}", extra.group, extra.kind)
        };
        out.push_str(&format!(
            "=== {kind}/{}/{}: in the cluster, not in Git (pruned by a sync with prune)\n",
            extra.namespace, extra.name
        ));
    }
    print!("{out}");
    Ok(differs)
}
