//! What auto-revert reads from Git when it is on and the synced revision is not the known-good
//! one: the commits since the known-good revision, the reverts already in history (idempotent
//! across restarts and replicas), this Application's reverts in the last hour, the branch the
//! target revision names, and what the build reads (Kustomize bases included).

use crate::runtime::live::LiveState;
use std::sync::Arc;

use crds::AnalysisRun;
use crds::gitops::StoredApplication;
use gitops::revert::{APPLICATION_TRAILER, trailer};
use kube::api::ListParams;
use kube::{Api, ResourceExt as _};
use serde_json::Value;

use super::context::AppContext;
use super::decide::revert::HEALTHY_REVISION_ANNOTATION;
use super::snapshot::{Observed, RevertInputs};

/// How far back history is searched for earlier reverts.
const SEARCHED: usize = 500;

/// The inputs, or `None` when auto-revert is off or the revision is the known-good one.
pub async fn inputs(ctx: &Arc<AppContext>, app: &StoredApplication, revision: &str) -> Option<RevertInputs> {
    let mode = gitops::revert::mode(
        app.annotations()
            .get(gitops::revert::AUTO_REVERT_ANNOTATION)
            .map(String::as_str),
        ctx.runtime.settings.auto_revert,
    );
    if mode == gitops::revert::Mode::Off {
        return None;
    }
    let known_good = app.annotations().get(HEALTHY_REVISION_ANNOTATION).cloned();
    if known_good.as_deref() == Some(revision) {
        return None;
    }
    let source = app.spec.primary_source()?;
    let (url, target, path) = (
        source.repo_url.clone(),
        source.target_revision.clone().unwrap_or_else(|| "HEAD".into()),
        source.path.clone().unwrap_or_default(),
    );
    let application = format!("{}/{}", app.namespace().unwrap_or_default(), app.name_any());
    let (shared, revision) = (ctx.clone(), revision.to_owned());
    let now = ctx.base.clock.now().as_second();
    let (limit, squash) = (
        ctx.runtime.settings.max_reverts_per_hour,
        ctx.runtime.settings.revert_squash,
    );
    let task = tokio::task::spawn_blocking(move || {
        let repos = &shared.runtime.repos;
        let commits = match &known_good {
            Some(good) => repos.commits_between(&url, good, &revision).unwrap_or_default(),
            None => Vec::new(),
        };
        let recent = repos.recent_commits(&url, &revision, SEARCHED).unwrap_or_default();
        let refs = repos.refs(&url);
        let branch = if refs.contains_key(&format!("refs/heads/{target}")) {
            Some(target.clone())
        } else if target == "HEAD" || target.is_empty() {
            let head = refs.get("HEAD");
            refs.iter()
                .find(|(name, sha)| name.starts_with("refs/heads/") && Some(*sha) == head)
                .map(|(name, _)| name.trim_start_matches("refs/heads/").to_owned())
        } else {
            None
        };
        let input = repos
            .kustomize_inputs(&url, &revision, &path)
            .unwrap_or_else(|_| vec![path.clone()]);
        RevertInputs {
            input,
            squash,
            analysis: Vec::new(),
            dry_run: mode == gitops::revert::Mode::DryRun,
            known_good,
            commits: commits.iter().map(repo::history::CommitInfo::for_decision).collect(),
            already_reverted: recent.iter().flat_map(repo::history::CommitInfo::reverted).collect(),
            recent: (
                u32::try_from(
                    recent
                        .iter()
                        .filter(|c| {
                            c.time >= now - 3600
                                && trailer(&c.message, APPLICATION_TRAILER) == Some(application.as_str())
                        })
                        .count(),
                )
                .unwrap_or(u32::MAX),
                limit,
            ),
            branch,
        }
    });
    task.await.ok()
}

/// What the failed AnalysisRuns of the Application's aborted Rollouts measured: one list request
/// per aborted Rollout (on the Application's cluster), and none while every Rollout is fine.
pub async fn analysis(ctx: &AppContext, cluster: &LiveState, observed: &Observed) -> Vec<String> {
    let mut lines = Vec::new();
    for live in observed.resources.iter().filter_map(|r| r.live.as_ref()) {
        let aborted = live["apiVersion"]
            .as_str()
            .is_some_and(|v| v.starts_with("argoproj.io/"))
            && live["kind"] == "Rollout"
            && (live.pointer("/status/abort") == Some(&Value::Bool(true))
                || live.pointer("/status/phase") == Some(&Value::from("Degraded")));
        let (Some(namespace), Some(uid)) = (
            live.pointer("/metadata/namespace").and_then(Value::as_str),
            live.pointer("/metadata/uid").and_then(Value::as_str),
        ) else {
            continue;
        };
        if !aborted {
            continue;
        }
        ctx.base.metrics.app_requests.inc();
        let api: Api<AnalysisRun> = Api::namespaced(cluster.client().clone(), namespace);
        let Ok(runs) = api.list(&ListParams::default()).await else {
            continue;
        };
        let mut owned: Vec<&AnalysisRun> = runs
            .items
            .iter()
            .filter(|run| run.owner_references().iter().any(|o| o.uid == uid))
            .filter(|run| !gitops::revert::evidence::lines(run).is_empty())
            .collect();
        owned.sort_by_key(|run| std::cmp::Reverse(run.metadata.creation_timestamp.clone().map(|t| t.0)));
        if let Some(newest) = owned.first() {
            lines.extend(gitops::revert::evidence::lines(newest));
        }
    }
    lines
}
