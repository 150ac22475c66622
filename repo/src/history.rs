//! Reading history for auto-revert: the commits between a known-good revision and the one synced
//! now (with the files each changed against its first parent), and the Sluice reverts already in
//! history (their `Sluice-Revert-Of` and `Sluice-Application` trailers, and when they were made).

use git2::{Oid, Repository, Sort};

/// A commit as auto-revert reads it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommitInfo {
    /// Full SHA.
    pub sha: String,
    /// Whole message.
    pub message: String,
    /// Files changed against the first parent.
    pub paths: Vec<String>,
    /// Commit time, seconds since the epoch.
    pub time: i64,
}

impl CommitInfo {
    /// The commit as the auto-revert decision reads it (`gitops::revert::Commit`).
    #[must_use]
    pub fn for_decision(&self) -> gitops::revert::Commit {
        gitops::revert::Commit {
            sha: self.sha.clone(),
            subject: self.message.lines().next().unwrap_or_default().to_owned(),
            paths: self.paths.clone(),
            reverts: gitops::revert::trailer(&self.message, gitops::revert::REVERT_OF_TRAILER).map(str::to_owned),
        }
    }

    /// The commits this one reverts (every `Sluice-Revert-Of` trailer: a squashed revert names
    /// several).
    pub fn reverted(&self) -> impl Iterator<Item = String> + '_ {
        gitops::revert::trailers(&self.message, gitops::revert::REVERT_OF_TRAILER).map(str::to_owned)
    }
}

fn info(repo: &Repository, oid: Oid) -> Result<CommitInfo, git2::Error> {
    let commit = repo.find_commit(oid)?;
    let tree = commit.tree()?;
    let parent = commit.parents().next().map(|p| p.tree()).transpose()?;
    let diff = repo.diff_tree_to_tree(parent.as_ref(), Some(&tree), None)?;
    let mut paths = Vec::new();
    for delta in diff.deltas() {
        for file in [delta.old_file(), delta.new_file()] {
            if let Some(p) = file.path().and_then(|p| p.to_str())
                && !paths.iter().any(|k: &String| k == p)
            {
                paths.push(p.to_owned());
            }
        }
    }
    Ok(CommitInfo {
        sha: oid.to_string(),
        message: commit.message().unwrap_or_default().to_owned(),
        paths,
        time: commit.time().seconds(),
    })
}

/// The commits reachable from `to` and not from `from`, newest first (first-parent order).
pub(crate) fn between(repo: &Repository, from: &str, to: &str) -> Result<Vec<CommitInfo>, git2::Error> {
    let mut walk = repo.revwalk()?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)?;
    walk.simplify_first_parent()?;
    walk.push(Oid::from_str(to)?)?;
    walk.hide(Oid::from_str(from)?)?;
    walk.map(|oid| info(repo, oid?)).collect()
}

/// The newest `limit` commits reachable from `tip`.
pub(crate) fn recent(repo: &Repository, tip: &str, limit: usize) -> Result<Vec<CommitInfo>, git2::Error> {
    let mut walk = repo.revwalk()?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)?;
    walk.push(Oid::from_str(tip)?)?;
    walk.take(limit).map(|oid| info(repo, oid?)).collect()
}
