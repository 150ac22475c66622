//! `app revert APP [--to-revision SHA] [--dry-run]`: the Git-level rollback on demand (Argo CD
//! users do it in four manual steps, argo-cd 9570): the commits after the revision to go back to
//! that changed the Application's path are reverted on its branch and pushed, by the same rules
//! and the same code as the controller's auto-revert. Prints the commit it pushed.

use gitops::revert::{Commit, Mode, Situation, Verdict};
use kube::{Client, ResourceExt as _};

use super::app::read;
use super::app_diff::write_access;
use crate::cluster::CliError;

fn other(e: impl std::fmt::Display) -> CliError {
    CliError::Other(e.to_string())
}

/// `app revert`.
///
/// # Errors
/// No revision to go back to, a pinned target, Git failures, a refused push.
pub async fn revert(
    client: &Client,
    namespace: &str,
    name: &str,
    to: Option<&str>,
    dry_run: bool,
) -> Result<(), CliError> {
    let app = read(client, namespace, name).await?;
    let source = app
        .spec
        .primary_source()
        .cloned()
        .ok_or_else(|| other("the Application has no source"))?;
    let status = app.status.clone().unwrap_or_default();
    let current = status
        .sync
        .and_then(|s| s.revision)
        .ok_or_else(|| other(format!("application '{name}' has not been compared with Git yet")))?;
    let good = to
        .map(str::to_owned)
        .or_else(|| {
            app.annotations()
                .get(crds::keys::HEALTHY_REVISION_ANNOTATION)
                .cloned()
                .filter(|g| *g != current)
        })
        .or_else(|| {
            status
                .history
                .iter()
                .rev()
                .map(|h| h.revision.clone())
                .find(|r| *r != current)
        })
        .ok_or_else(|| {
            other(format!(
                "application '{name}': no earlier revision to go back to (pass --to-revision)"
            ))
        })?;
    let access = write_access(client, namespace, &source.repo_url).await?;
    let application = format!("{namespace}/{name}");
    let task = tokio::task::spawn_blocking(move || in_git(&source, &access, &application, &good, &current, dry_run));
    let said = task
        .await
        .map_err(other)?
        .map_err(|e| CliError::Other(format!("application '{name}': {e}")))?;
    println!("{said}");
    Ok(())
}

/// The blocking Git work of `app revert`: what was done, or why not.
fn in_git(
    source: &crds::gitops::ApplicationSource,
    access: &repo::remote::Access,
    application: &str,
    good: &str,
    current: &str,
    dry_run: bool,
) -> Result<String, String> {
    let dir = std::env::temp_dir().join(format!("kubectl-sluice-revert-{}", std::process::id()));
    let cache = repo::RepoCache::new(dir.join("cache")).map_err(|e| e.to_string())?;
    let url = source.repo_url.as_str();
    cache.fetch(url, access, 0).map_err(|e| e.to_string())?;
    let good = cache.resolve(url, good).map_err(|e| e.to_string())?;
    let target = source.target_revision.clone().unwrap_or_else(|| "HEAD".into());
    let branch = if cache.refs(url).contains_key(&format!("refs/heads/{target}")) {
        target
    } else {
        return Err(format!(
            "application '{application}' targets {target}, not a branch: there is nothing to push a revert onto"
        ));
    };
    let commits: Vec<Commit> = cache
        .commits_between(url, &good, current)
        .map_err(|e| e.to_string())?
        .iter()
        .map(repo::history::CommitInfo::for_decision)
        .collect();
    let already: Vec<String> = cache
        .recent_commits(url, current, 500)
        .map_err(|e| e.to_string())?
        .iter()
        .flat_map(repo::history::CommitInfo::reverted)
        .collect();
    let path = source.path.clone().unwrap_or_default();
    let input = cache
        .kustomize_inputs(url, current, &path)
        .unwrap_or_else(|_| vec![path]);
    let why = format!(
        "requested with kubectl sluice app revert (back to {})",
        &good[..good.len().min(7)]
    );
    let situation = Situation {
        application,
        mode: if dry_run { Mode::DryRun } else { Mode::On },
        pinned: false,
        known_good: Some(&good),
        commits: &commits,
        input: &input,
        already_reverted: &already,
        recent: (0, u32::MAX),
        why: &why,
    };
    let said = match gitops::revert::decide(&situation) {
        Verdict::Nothing => {
            "nothing to revert: no commit since that revision changed the Application's path".to_owned()
        }
        Verdict::Refused(reason) => return Err(reason),
        Verdict::Revert { reverts, dry_run: true } => reverts
            .iter()
            .map(|r| format!("would revert {}:\n{}", r.original, r.message))
            .collect::<Vec<_>>()
            .join("\n"),
        Verdict::Revert {
            reverts,
            dry_run: false,
        } => {
            let culprits: Vec<repo::revert::Culprit> = reverts.iter().map(Into::into).collect();
            let request = repo::revert::Request {
                url,
                access,
                branch: &branch,
                culprits: &culprits,
                author_name: "kubectl-sluice",
                author_email: "kubectl-sluice@localhost",
                attempts: 10,
                squash: None,
            };
            match repo::revert::revert_and_push(&cache, &request).map_err(|e| e.to_string())? {
                repo::revert::Pushed::Branch(tip) => format!(
                    "pushed {} to {branch}: reverted {}",
                    &tip[..tip.len().min(7)],
                    reverts
                        .iter()
                        .map(|r| &r.original[..r.original.len().min(7)])
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                repo::revert::Pushed::Aside { branch, reason } => {
                    return Err(format!("{reason} (the revert is on branch {branch})"));
                }
            }
        }
    };
    let _ = std::fs::remove_dir_all(&dir);
    Ok(said)
}
