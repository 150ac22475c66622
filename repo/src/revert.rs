//! Reverting commits and pushing the result, never rewriting history: each revert is a new
//! commit on the branch's tip (or all of them one commit, when squashed) (a merge commit is reverted against its first parent), limited to
//! the given files when asked; the push is a plain fast-forward. A push rejected because the
//! branch moved fetches the new tip and redoes the reverts there, a bounded number of times; a
//! conflict or a branch that refuses the push (a protected branch, a pre-receive hook) leaves the
//! work on a branch `sluice/revert-<short-sha>` for a person to open a pull request from.

use std::path::Path;

use git2::{Commit, Index, IndexEntry, Oid, Repository, Signature};

use crate::cache::RepoCache;
use crate::error::{self, GitError};
use crate::remote::{self, Access};

/// One commit to revert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Culprit {
    /// Its full SHA.
    pub sha: String,
    /// The revert's message.
    pub message: String,
    /// Only these files (`None`: all it changed).
    pub only: Option<Vec<String>>,
}

impl From<&gitops::revert::Revert> for Culprit {
    fn from(revert: &gitops::revert::Revert) -> Self {
        Self {
            sha: revert.original.clone(),
            message: revert.message.clone(),
            only: revert.only.clone(),
        }
    }
}

/// What to revert and where.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    /// The repository.
    pub url: &'a str,
    /// Credentials (write credentials when configured).
    pub access: &'a Access,
    /// The branch to push to.
    pub branch: &'a str,
    /// Newest first.
    pub culprits: &'a [Culprit],
    /// Author and committer name.
    pub author_name: &'a str,
    /// Author and committer email.
    pub author_email: &'a str,
    /// Pushes attempted before giving up on a moving branch.
    pub attempts: u32,
    /// One commit with this message for all the culprits (`--revert-squash`), instead of one each.
    pub squash: Option<&'a str>,
}

/// What the push did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pushed {
    /// The reverts are on the branch; the new tip.
    Branch(String),
    /// They could not go onto the branch; they are on `branch` instead, and why.
    Aside {
        /// The branch holding the work.
        branch: String,
        /// Why the target branch did not take it.
        reason: String,
    },
}

fn git(url: &str) -> impl Fn(git2::Error) -> GitError + '_ {
    move |e| error::remote(url, &e)
}

/// Reverts `culprit` on top of `tip`; `Err(None)` on a conflict.
fn revert_onto<'r>(
    repo: &'r Repository,
    tip: &Commit<'r>,
    culprit: &Culprit,
    who: &Signature<'_>,
) -> Result<Commit<'r>, Option<git2::Error>> {
    let original = repo
        .find_commit(Oid::from_str(&culprit.sha).map_err(Some)?)
        .map_err(Some)?;
    let mainline = if original.parent_count() > 1 { 1 } else { 0 };
    let mut index = repo.revert_commit(&original, tip, mainline, None).map_err(Some)?;
    if let Some(only) = &culprit.only {
        keep_outside(repo, &mut index, tip, only).map_err(Some)?;
    }
    if index.has_conflicts() {
        return Err(None);
    }
    let tree = repo.find_tree(index.write_tree_to(repo).map_err(Some)?).map_err(Some)?;
    let oid = repo
        .commit(None, who, who, &culprit.message, &tree, &[tip])
        .map_err(Some)?;
    repo.find_commit(oid).map_err(Some)
}

/// Puts back the tip's version of every file not in `only` (the revert touches the input only).
fn keep_outside(repo: &Repository, index: &mut Index, tip: &Commit<'_>, only: &[String]) -> Result<(), git2::Error> {
    let tip_tree = tip.tree()?;
    let inside = |path: &str| only.iter().any(|o| o == path);
    let paths: Vec<(String, bool)> = index
        .iter()
        .map(|e| (String::from_utf8_lossy(&e.path).into_owned(), e.flags & 0x3000 != 0))
        .collect();
    for (path, conflicted) in &paths {
        if inside(path) {
            continue;
        }
        if *conflicted {
            index.conflict_remove(Path::new(path))?;
        }
        match tip_tree.get_path(Path::new(path)) {
            Ok(entry) => add(index, repo, &entry, path)?,
            Err(_) => index.remove_path(Path::new(path))?,
        }
    }
    // Files the revert deleted outside the input come back from the tip.
    tip_tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        if entry.kind() == Some(git2::ObjectType::Blob) {
            let path = format!("{dir}{}", entry.name().unwrap_or_default());
            if !inside(&path) && index.get_path(Path::new(&path), 0).is_none() {
                let _ = add(index, repo, entry, &path);
            }
        }
        git2::TreeWalkResult::Ok
    })?;
    Ok(())
}

fn add(index: &mut Index, repo: &Repository, entry: &git2::TreeEntry<'_>, path: &str) -> Result<(), git2::Error> {
    let blob = repo.find_blob(entry.id())?;
    let item = IndexEntry {
        ctime: git2::IndexTime::new(0, 0),
        mtime: git2::IndexTime::new(0, 0),
        dev: 0,
        ino: 0,
        mode: u32::try_from(entry.filemode()).unwrap_or(0o100_644),
        uid: 0,
        gid: 0,
        file_size: u32::try_from(blob.size()).unwrap_or(u32::MAX),
        id: entry.id(),
        flags: 0,
        flags_extended: 0,
        path: path.as_bytes().to_vec(),
    };
    index.add(&item)
}

/// Pushes `commit` to `refs/heads/<branch>` (never forced); `Err(message)` when the remote refused.
fn push(
    repo: &Repository,
    url: &str,
    access: &Access,
    commit: Oid,
    branch: &str,
) -> Result<Result<(), String>, GitError> {
    let local = format!("refs/sluice/push/{branch}");
    repo.reference(&local, commit, true, "sluice revert")
        .map_err(git(url))?;
    let mut remote = repo.remote_anonymous(url).map_err(git(url))?;
    let refused = std::cell::RefCell::new(None);
    let mut callbacks = remote::callbacks(access);
    callbacks.push_update_reference(|_, status| {
        if let Some(message) = status {
            *refused.borrow_mut() = Some(message.to_owned());
        }
        Ok(())
    });
    let mut options = git2::PushOptions::new();
    options.remote_callbacks(callbacks);
    let result = remote.push(&[format!("{local}:refs/heads/{branch}")], Some(&mut options));
    let _ = repo.find_reference(&local).and_then(|mut r| r.delete());
    let refused = refused.borrow().clone();
    match (result, refused) {
        (Ok(()), None) => Ok(Ok(())),
        (Ok(()), Some(message)) => Ok(Err(message)),
        // libgit2 names a remote that moved with this code (its message varies).
        (Err(e), _) if matches!(e.code(), git2::ErrorCode::NotFastForward) => {
            Ok(Err(format!("non-fast-forward: {}", e.message())))
        }
        (Err(e), _)
            if e.class() == git2::ErrorClass::Reference
                || e.message().contains("rejected")
                || e.message().contains("hook") =>
        {
            Ok(Err(e.message().to_owned()))
        }
        (Err(e), _) => Err(error::remote(url, &e)),
    }
}

/// Whether a refused push only lost a race with another push, so fetching and redoing the revert
/// on the new tip can succeed: not a fast-forward (`non-fast-forward`, `fetch first`, libgit2's
/// "commits that are not present locally"), or the ref
/// changed or was locked while the remote updated it (git's receive-pack says `failed to update
/// ref`, `cannot lock ref` or `incorrect old value`). Anything else (a hook, a protected branch) is
/// a refusal.
fn branch_moved(message: &str) -> bool {
    [
        "fast",
        "fetch first",
        "not present locally",
        "failed to update ref",
        "cannot lock ref",
        "failed to lock",
        "incorrect old value",
    ]
    .iter()
    .any(|m| message.contains(m))
}

/// Reverts the culprits on the branch and pushes them (see the module's rules).
///
/// # Errors
/// The repository could not be fetched or written.
pub fn revert_and_push(cache: &RepoCache, request: &Request<'_>) -> Result<Pushed, GitError> {
    let url = request.url;
    let contacted = cache.effective_url(url);
    let who = Signature::now(request.author_name, request.author_email).map_err(git(url))?;
    let mut last = String::new();
    for attempt in 0..request.attempts.max(1) {
        if attempt > 0 {
            std::thread::sleep(std::time::Duration::from_millis(50 * u64::from(attempt)));
        }
        cache.fetch(url, request.access, cache.fetch_count(url))?;
        let repo = cache.repository(url)?;
        let tip_sha = cache.resolve(url, &format!("refs/heads/{}", request.branch))?;
        let start = repo
            .find_commit(Oid::from_str(&tip_sha).map_err(git(url))?)
            .map_err(git(url))?;
        let mut tip = start.clone();
        for culprit in request.culprits {
            match revert_onto(&repo, &tip, culprit, &who) {
                Ok(next) => tip = next,
                Err(Some(e)) => return Err(error::remote(url, &e)),
                Err(None) => {
                    return aside(
                        cache,
                        &repo,
                        request,
                        culprit,
                        &who,
                        "the revert conflicts with later commits",
                    );
                }
            }
        }
        if let Some(message) = request.squash
            && request.culprits.len() > 1
        {
            let tree = tip.tree().map_err(git(url))?;
            let oid = repo
                .commit(None, &who, &who, message, &tree, &[&start])
                .map_err(git(url))?;
            tip = repo.find_commit(oid).map_err(git(url))?;
        }
        match push(&repo, &contacted, request.access, tip.id(), request.branch)? {
            Ok(()) => return Ok(Pushed::Branch(tip.id().to_string())),
            Err(message) if branch_moved(&message) => last = message,
            Err(message) => {
                let culprit = &request.culprits[0];
                let _ = tip;
                return aside(
                    cache,
                    &repo,
                    request,
                    culprit,
                    &who,
                    &format!("the branch refused the push: {message}"),
                );
            }
        }
    }
    Ok(Pushed::Aside {
        branch: String::new(),
        reason: format!("the branch kept moving ({} attempts): {last}", request.attempts),
    })
}

/// Leaves the revert of `culprit` on a branch of its own, made on top of the culprit itself (where
/// it always applies), for a pull request.
fn aside(
    cache: &RepoCache,
    repo: &Repository,
    request: &Request<'_>,
    culprit: &Culprit,
    who: &Signature<'_>,
    reason: &str,
) -> Result<Pushed, GitError> {
    let url = request.url;
    let original = repo
        .find_commit(Oid::from_str(&culprit.sha).map_err(git(url))?)
        .map_err(git(url))?;
    let onto = revert_onto(repo, &original, culprit, who).map_err(|e| match e {
        Some(e) => error::remote(url, &e),
        None => GitError::Remote {
            url: crate::error::mask_url(url),
            message: "the revert conflicts even on its own commit".into(),
        },
    })?;
    let branch = format!("sluice/revert-{}", &culprit.sha[..culprit.sha.len().min(12)]);
    match push(repo, &cache.effective_url(url), request.access, onto.id(), &branch)? {
        Ok(()) => Ok(Pushed::Aside {
            branch,
            reason: reason.to_owned(),
        }),
        Err(message) => Ok(Pushed::Aside {
            branch: String::new(),
            reason: format!("{reason}; the branch {branch} was refused too: {message}"),
        }),
    }
}
