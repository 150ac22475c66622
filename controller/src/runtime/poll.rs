//! Change detection: every `--repo-poll-interval` (jittered by up to a fifth, so replicas and
//! repositories spread out), one `ls-remote` per repository the Applications use; when the
//! advertised references differ from the cache's, one fetch, then a reconcile of every
//! Application on that repository. An unchanged repository costs one ls-remote and nothing else.

use std::collections::BTreeSet;
use std::sync::Arc;

use crds::gitops::StoredApplication;
use kube::ResourceExt as _;
use kube::runtime::reflector::{ObjectRef, Store};
use rand::Rng as _;
use tokio::sync::mpsc::UnboundedSender;

use super::GitOps;

use super::render::access;

/// Polls until aborted.
pub async fn run(
    ctx: Arc<GitOps>,
    apps: Store<StoredApplication>,
    wake: UnboundedSender<ObjectRef<StoredApplication>>,
) {
    loop {
        let base = ctx.settings.poll_interval;
        let jitter = rand::rng().random_range(0.0..0.2);
        tokio::time::sleep(base.mul_f64(1.0 + jitter)).await;
        let urls: BTreeSet<String> = apps
            .state()
            .iter()
            .filter(|a| ctx.owns(a))
            .filter_map(|a| a.spec.primary_source().map(|s| s.repo_url.clone()))
            .collect();
        for url in urls {
            if changed(&ctx, &url).await {
                for app in apps
                    .state()
                    .iter()
                    .filter(|a| a.spec.primary_source().is_some_and(|s| s.repo_url == url))
                {
                    let _ = wake.send(ObjectRef::new(&app.name_any()).within(&ctx.settings.namespace));
                }
            }
        }
    }
}

/// Whether `url` moved since the last fetch (fetching it when it did).
pub async fn changed(ctx: &Arc<GitOps>, url: &str) -> bool {
    let Ok(access) = access(ctx, url) else { return false };
    let (shared, url) = (ctx.clone(), url.to_owned());
    let task = tokio::task::spawn_blocking(move || {
        let repos = &shared.repos;
        let seen = repos.fetch_count(&url);
        if seen == 0 {
            return false;
        }
        let cached = repos.refs(&url);
        let advertised = match repos.ls_remote(&url, &access) {
            Ok(Some(refs)) => refs,
            Ok(None) => {
                let timer = shared.base.metrics.git_fetch();
                let fetched = repos.fetch(&url, &access, seen);
                timer.done(fetched.is_ok());
                return fetched.is_ok_and(|refs| refs != cached);
            }
            Err(error) => {
                tracing::debug!(%error, "ls-remote failed");
                return false;
            }
        };
        if advertised == cached {
            return false;
        }
        let timer = shared.base.metrics.git_fetch();
        let fetched = repos.fetch(&url, &access, seen);
        timer.done(fetched.is_ok());
        true
    });
    task.await.unwrap_or(false)
}
