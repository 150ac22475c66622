//! One bare repository per URL under the cache folder, fetched as a whole (every branch and tag)
//! so one fetch serves every Application on that repository. Concurrent fetches of one URL are
//! coalesced: a caller that waited for another's fetch uses its result instead of fetching again.
//! Revisions resolve locally, as Argo CD's `resolveRevision` does: a full SHA, `HEAD` (or empty),
//! a branch, a tag (peeled to its commit), then a short SHA.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use git2::Repository;

use crate::error::{self, GitError, mask_url};
use crate::remote::{self, Access, Refs};

/// The reference under which the remote's `HEAD` is kept in the cache.
const REMOTE_HEAD: &str = "refs/sluice/HEAD";

#[derive(Default)]
struct Entry {
    fetches: u64,
    refs: Refs,
}

/// The repository cache.
pub struct RepoCache {
    root: PathBuf,
    entries: Mutex<HashMap<String, Arc<Mutex<Entry>>>>,
    rewrites: Vec<(String, String)>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl RepoCache {
    /// A cache under `root` (created if missing).
    pub fn new(root: impl Into<PathBuf>) -> Result<Self, GitError> {
        let root = root.into();
        std::fs::create_dir_all(&root).map_err(|e| cache_error(&root, &e))?;
        Ok(Self {
            root,
            entries: Mutex::default(),
            rewrites: Vec::new(),
        })
    }

    /// Fetches repositories whose URL starts with a prefix from the prefix's replacement instead
    /// (git's `url.<replacement>.insteadOf <prefix>`: a mirror, or a local server in tests). The
    /// Applications, credentials and project rules keep seeing the URL as written.
    #[must_use]
    pub fn with_rewrites(mut self, rewrites: Vec<(String, String)>) -> Self {
        self.rewrites = rewrites;
        self
    }

    /// The URL actually contacted for `url`.
    #[must_use]
    pub fn effective_url(&self, url: &str) -> String {
        self.rewrites
            .iter()
            .filter(|(prefix, _)| url.starts_with(prefix.as_str()))
            .max_by_key(|(prefix, _)| prefix.len())
            .map_or_else(
                || url.to_owned(),
                |(prefix, to)| format!("{to}{}", &url[prefix.len()..]),
            )
    }

    /// The references `url` advertises (see [`remote::ls_remote`]).
    pub fn ls_remote(&self, url: &str, access: &Access) -> Result<Option<Refs>, GitError> {
        remote::ls_remote(&self.effective_url(url), access)
    }

    /// The cache folder.
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn entry(&self, url: &str) -> Arc<Mutex<Entry>> {
        lock(&self.entries).entry(url.to_owned()).or_default().clone()
    }

    /// The bare repository of `url`, created empty when new.
    fn open(&self, url: &str) -> Result<Repository, GitError> {
        let mut hasher = DefaultHasher::new();
        url.hash(&mut hasher);
        let safe: String = mask_url(url)
            .rsplit('/')
            .next()
            .unwrap_or("repo")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            .take(40)
            .collect();
        let path = self.root.join(format!("{safe}-{:016x}", hasher.finish()));
        match Repository::open_bare(&path) {
            Ok(repo) => Ok(repo),
            Err(_) => Repository::init_bare(&path).map_err(|e| cache_error(&path, &e)),
        }
    }

    /// The bare repository of `url` (for the Git work of `crate::revert`).
    pub(crate) fn repository(&self, url: &str) -> Result<Repository, GitError> {
        self.open(url)
    }

    /// How many fetches of `url` have completed (for callers that coalesce).
    #[must_use]
    pub fn fetch_count(&self, url: &str) -> u64 {
        lock(&self.entry(url)).fetches
    }

    /// The references of `url` as of the last fetch (empty before the first).
    #[must_use]
    pub fn refs(&self, url: &str) -> Refs {
        lock(&self.entry(url)).refs.clone()
    }

    /// Fetches every branch and tag of `url` and its `HEAD`, unless a fetch that completed after
    /// the caller read `seen` (from [`Self::fetch_count`]) already did: then its result is used.
    /// Returns the remote's references.
    pub fn fetch(&self, url: &str, access: &Access, seen: u64) -> Result<Refs, GitError> {
        let entry = self.entry(url);
        let mut entry = lock(&entry);
        if entry.fetches > seen {
            return Ok(entry.refs.clone());
        }
        let repo = self.open(url)?;
        let contacted = self.effective_url(url);
        let url = contacted.as_str();
        let mut remote = repo.remote_anonymous(url).map_err(|e| error::remote(url, &e))?;
        let mut options = remote::fetch_options(access);
        options.prune(git2::FetchPrune::On);
        remote
            .fetch(
                &["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"],
                Some(&mut options),
                None,
            )
            .map_err(|e| error::remote(url, &e))?;
        let refs: Refs = remote
            .list()
            .map_err(|e| error::remote(url, &e))?
            .iter()
            .map(|h| (h.name().to_owned(), h.oid().to_string()))
            .collect();
        if let Some(head) = refs.get("HEAD").and_then(|h| git2::Oid::from_str(h).ok())
            && repo.find_commit(head).is_ok()
        {
            repo.reference(REMOTE_HEAD, head, true, "remote HEAD")
                .map_err(|e| cache_error(repo.path(), &e))?;
        }
        entry.fetches += 1;
        entry.refs = refs.clone();
        Ok(refs)
    }

    /// The full commit SHA `revision` names in the cached copy of `url`.
    pub fn resolve(&self, url: &str, revision: &str) -> Result<String, GitError> {
        let repo = self.open(url)?;
        let unknown = || GitError::UnknownRevision {
            url: mask_url(url),
            revision: revision.to_owned(),
        };
        let candidates: Vec<String> = match revision {
            "" | "HEAD" => vec![REMOTE_HEAD.to_owned()],
            r if r.len() == 40 && r.chars().all(|c| c.is_ascii_hexdigit()) => vec![r.to_owned()],
            r => vec![format!("refs/heads/{r}"), format!("refs/tags/{r}"), r.to_owned()],
        };
        for candidate in &candidates {
            if let Ok(object) = repo.revparse_single(candidate)
                && let Ok(commit) = object.peel_to_commit()
            {
                return Ok(commit.id().to_string());
            }
        }
        if revision.len() >= 4
            && revision.chars().all(|c| c.is_ascii_hexdigit())
            && let Ok(commit) = repo.find_commit_by_prefix(revision)
        {
            return Ok(commit.id().to_string());
        }
        Err(unknown())
    }

    /// Whether the commit `sha` is in the cached copy of `url`.
    #[must_use]
    pub fn has_commit(&self, url: &str, sha: &str) -> bool {
        let Ok(repo) = self.open(url) else { return false };
        git2::Oid::from_str(sha).is_ok_and(|oid| repo.find_commit(oid).is_ok())
    }

    /// Writes the tree of commit `sha` of `url` into `dest` (which must not exist).
    pub fn export(&self, url: &str, sha: &str, dest: &Path) -> Result<(), GitError> {
        let repo = self.open(url)?;
        crate::checkout::export(&repo, sha, dest).map_err(|message| GitError::Cache {
            path: dest.display().to_string(),
            message,
        })
    }

    /// How commit `sha` of `url` renders `path`, read from the tree without a checkout: `None`
    /// when the path does not exist, else the source type (a `kustomization.yaml`, a
    /// `Chart.yaml`, or a directory).
    pub fn source_type(&self, url: &str, sha: &str, path: &str) -> Result<Option<crate::render::SourceType>, GitError> {
        let repo = self.open(url)?;
        crate::checkout::source_type(&repo, sha, path).map_err(|message| GitError::Cache {
            path: repo.path().display().to_string(),
            message,
        })
    }

    /// The files under `path` of commit `sha` (path relative to `path`, path from the root,
    /// content), straight from the object database.
    pub fn files(&self, url: &str, sha: &str, path: &str) -> Result<Vec<(String, String, Vec<u8>)>, GitError> {
        let repo = self.open(url)?;
        crate::checkout::files(&repo, sha, path).map_err(|message| GitError::Cache {
            path: repo.path().display().to_string(),
            message,
        })
    }

    /// Every directory and file path of commit `sha` of `url` (what a Git generator of an
    /// ApplicationSet matches), from the object database.
    pub fn listing(&self, url: &str, sha: &str) -> Result<(Vec<String>, Vec<String>), GitError> {
        let repo = self.open(url)?;
        crate::checkout::listing(&repo, sha).map_err(|message| GitError::Cache {
            path: repo.path().display().to_string(),
            message,
        })
    }

    /// The content of file `path` of commit `sha` of `url` (`None`: no such file).
    pub fn read(&self, url: &str, sha: &str, path: &str) -> Result<Option<Vec<u8>>, GitError> {
        let repo = self.open(url)?;
        crate::checkout::read(&repo, sha, path).map_err(|message| GitError::Cache {
            path: repo.path().display().to_string(),
            message,
        })
    }

    /// What the Kustomize build of `path` at commit `sha` reads (paths from the root: the path,
    /// its local bases and components, files its kustomizations name); just `path` when it has no
    /// kustomization.
    pub fn kustomize_inputs(&self, url: &str, sha: &str, path: &str) -> Result<Vec<String>, GitError> {
        let repo = self.open(url)?;
        let mut failure = None;
        let inputs = crate::render::kustomize_inputs::inputs(path, |dir| {
            crate::checkout::kustomization(&repo, sha, dir).unwrap_or_else(|message| {
                failure.get_or_insert(message);
                None
            })
        });
        match failure {
            Some(message) => Err(GitError::Cache {
                path: repo.path().display().to_string(),
                message,
            }),
            None => Ok(inputs),
        }
    }

    /// The commits after `from` up to `to`, newest first, with the files each changed.
    pub fn commits_between(
        &self,
        url: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<crate::history::CommitInfo>, GitError> {
        let repo = self.open(url)?;
        crate::history::between(&repo, from, to).map_err(|e| error::remote(url, &e))
    }

    /// The newest `limit` commits from `tip`.
    pub fn recent_commits(
        &self,
        url: &str,
        tip: &str,
        limit: usize,
    ) -> Result<Vec<crate::history::CommitInfo>, GitError> {
        let repo = self.open(url)?;
        crate::history::recent(&repo, tip, limit).map_err(|e| error::remote(url, &e))
    }

    /// The paths (relative to the repository root) that differ between commits `from` and `to`.
    pub fn changed_paths(&self, url: &str, from: &str, to: &str) -> Result<Vec<String>, GitError> {
        let repo = self.open(url)?;
        crate::checkout::changed_paths(&repo, from, to).map_err(|message| GitError::Cache {
            path: repo.path().display().to_string(),
            message,
        })
    }
}

fn cache_error(path: &Path, error: &dyn std::fmt::Display) -> GitError {
    GitError::Cache {
        path: path.display().to_string(),
        message: error.to_string(),
    }
}
