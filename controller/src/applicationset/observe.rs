//! Observing an ApplicationSet: the clusters from their Secrets, the revisions its Git generators
//! read (fetched when the remote moved), the parameter sets they give, and the Applications of
//! its namespace (those it controls, the names of the others) and the AppProjects there.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crds::gitops::{ApplicationSet, StoredApplication};
use gitops::appset::{GitRead, Inputs, Revision, clusters::Cluster, git_reads, parameters};
use kube::ResourceExt as _;

use super::context::AppSetContext;
use super::snapshot::Snapshot;
use crate::runtime::{poll, render};

/// Takes the snapshot of `set` at the context clock's now.
pub async fn snapshot(ctx: &Arc<AppSetContext>, set: &ApplicationSet) -> Snapshot {
    let namespace = set.namespace().unwrap_or_default();
    let clusters: Vec<Cluster> = ctx
        .clusters
        .state()
        .iter()
        .filter(|s| s.namespace().as_deref() == Some(namespace.as_str()))
        .filter_map(|s| Cluster::from_secret(s))
        .collect();
    let mut inputs = Inputs {
        clusters,
        revisions: BTreeMap::new(),
    };
    for read in git_reads(&set.spec.generators) {
        let revision = revision(ctx, &read).await;
        inputs.revisions.insert((read.repo_url, read.revision), revision);
    }
    let uid = set.uid().unwrap_or_default();
    let owned: Vec<StoredApplication> = ctx
        .applications
        .controlled_by(&uid)
        .iter()
        .map(|a| (**a).clone())
        .collect();
    let foreign: BTreeSet<String> = ctx
        .applications
        .store()
        .state()
        .iter()
        .filter(|a| a.namespace().as_deref() == Some(namespace.as_str()))
        .filter(|a| !owned.iter().any(|o| o.name_any() == a.name_any()))
        .map(|a| a.name_any())
        .collect();
    let projects = ctx
        .projects
        .state()
        .iter()
        .filter(|p| p.namespace().as_deref() == Some(namespace.as_str()))
        .map(|p| p.name_any())
        .chain(["default".to_owned()])
        .collect();
    Snapshot {
        appset: set.clone(),
        now: ctx.runtime.base.clock.now(),
        generated: parameters(&set.spec, &inputs),
        owned,
        foreign,
        projects,
    }
}

/// The revision `read` names: fetched the first time and whenever the remote moved, then read
/// from the cache (directories, and the files its patterns match).
async fn revision(ctx: &Arc<AppSetContext>, read: &GitRead) -> Result<Revision, String> {
    let url = read.repo_url.clone();
    let access = render::access(&ctx.runtime, &url).map_err(render::SourceError::into_message)?;
    if ctx.runtime.repos.fetch_count(&url) > 0 {
        poll::changed(&ctx.runtime, &url).await;
    }
    let (shared, read) = (ctx.runtime.clone(), read.clone());
    let task = tokio::task::spawn_blocking(move || {
        let repos = &shared.repos;
        let seen = repos.fetch_count(&url);
        if seen == 0 {
            let timer = shared.base.metrics.git_fetch();
            let fetched = repos.fetch(&url, &access, seen);
            timer.done(fetched.is_ok());
            fetched.map_err(|e| e.to_string())?;
        }
        repos
            .generator_revision(&url, &read.revision, &read.file_patterns)
            .map_err(|e| e.to_string())
    });
    task.await.map_err(|e| e.to_string())?
}
