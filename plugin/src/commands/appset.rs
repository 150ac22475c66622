//! `appset get NAME`: an ApplicationSet's parameter sets as its generators give them now, worked
//! out here as the controller does (cluster Secrets when this user may read them, Git revisions
//! fetched into a temporary cache with the repository Secrets' credentials), and what it owns.

use std::collections::BTreeMap;

use crds::gitops::ApplicationSet;
use gitops::appset::{GitRead, Inputs, Revision, clusters::Cluster, git_reads, parameters};
use k8s_openapi::api::core::v1::Secret;
use kube::api::ListParams;
use kube::{Api, Client};

use super::app_diff::access;
use super::get::print_as;
use crate::cli::Output;
use crate::cluster::{Call, CliError};

/// `appset get NAME`.
///
/// # Errors
/// Not found, forbidden, unreachable.
pub async fn get(client: &Client, namespace: &str, name: &str, output: Option<Output>) -> Result<(), CliError> {
    let api: Api<ApplicationSet> = Api::namespaced(client.clone(), namespace);
    let set = api.get(name).await.map_err(|e| {
        Call {
            verb: "get",
            resource: "applicationsets",
            kind: "applicationset",
            name,
            namespace,
        }
        .fail(e)
    })?;
    if let Some(output) = output {
        return print_as(&set, output);
    }
    let secrets: Api<Secret> = Api::namespaced(client.clone(), namespace);
    // Reading cluster Secrets may be forbidden to this user: then only the local cluster counts.
    let clusters = secrets
        .list(&ListParams::default().labels(&format!("{}=cluster", crds::keys::SECRET_TYPE_LABEL)))
        .await
        .map(|l| l.items.iter().filter_map(Cluster::from_secret).collect())
        .unwrap_or_default();
    let mut inputs = Inputs {
        clusters,
        revisions: BTreeMap::new(),
    };
    for read in git_reads(&set.spec.generators) {
        let revision = match access(client, namespace, &read.repo_url).await {
            Ok(access) => revision(read.clone(), access).await,
            Err(error) => Err(error.to_string()),
        };
        inputs.revisions.insert((read.repo_url, read.revision), revision);
    }
    print!("{}", plugin::appset_view::get(&set, &parameters(&set.spec, &inputs)));
    Ok(())
}

/// The revision `read` names, fetched into a temporary cache (on a blocking thread).
async fn revision(read: GitRead, access: repo::remote::Access) -> Result<Revision, String> {
    let task = tokio::task::spawn_blocking(move || {
        let dir = std::env::temp_dir().join(format!("kubectl-sluice-appset-{}", std::process::id()));
        let result = (|| {
            let cache = repo::RepoCache::new(dir.join("cache")).map_err(|e| e.to_string())?;
            cache.fetch(&read.repo_url, &access, 0).map_err(|e| e.to_string())?;
            cache
                .generator_revision(&read.repo_url, &read.revision, &read.file_patterns)
                .map_err(|e| e.to_string())
        })();
        let _ = std::fs::remove_dir_all(&dir);
        result
    });
    task.await.map_err(|e| e.to_string())?
}
