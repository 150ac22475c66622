//! A private copy of one commit's tree for one render: written from the object database into a
//! fresh folder, so concurrent renders never share a work tree, and removed when the render is done
//! ([`Worktree`]). Symbolic links are not written: a link could point a renderer outside the tree.

use std::path::{Path, PathBuf};

use git2::{ObjectType, Oid, Repository, Tree};

/// A checked-out tree that is deleted when dropped.
#[derive(Debug)]
pub struct Worktree {
    path: PathBuf,
}

impl Worktree {
    /// Takes ownership of `path` (removed on drop).
    #[must_use]
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }

    /// Where the tree is.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Worktree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

fn tree_of<'r>(repo: &'r Repository, sha: &str) -> Result<Tree<'r>, String> {
    let oid = Oid::from_str(sha).map_err(|e| format!("{sha}: {}", e.message()))?;
    let commit = repo
        .find_commit(oid)
        .map_err(|e| format!("commit {sha}: {}", e.message()))?;
    commit.tree().map_err(|e| format!("tree of {sha}: {}", e.message()))
}

/// Writes the tree of `sha` into `dest`.
pub(crate) fn export(repo: &Repository, sha: &str, dest: &Path) -> Result<(), String> {
    let tree = tree_of(repo, sha)?;
    write_tree(repo, &tree, dest)
}

fn write_tree(repo: &Repository, tree: &Tree<'_>, dest: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dest).map_err(|e| format!("{}: {e}", dest.display()))?;
    for entry in tree {
        let Ok(name) = entry.name() else { continue };
        if name == ".." || name == "." || name.contains('/') {
            continue;
        }
        let path = dest.join(name);
        match entry.kind() {
            Some(ObjectType::Tree) => {
                let sub = repo.find_tree(entry.id()).map_err(|e| e.message().to_owned())?;
                write_tree(repo, &sub, &path)?;
            }
            Some(ObjectType::Blob) if entry.filemode() != 0o120_000 => {
                let blob = repo.find_blob(entry.id()).map_err(|e| e.message().to_owned())?;
                std::fs::write(&path, blob.content()).map_err(|e| format!("{}: {e}", path.display()))?;
            }
            _ => {}
        }
    }
    Ok(())
}

fn subtree<'r>(repo: &'r Repository, sha: &str, path: &str) -> Result<Option<Tree<'r>>, String> {
    let tree = tree_of(repo, sha)?;
    let path = path.trim_start_matches("./").trim_matches('/');
    if path.is_empty() || path == "." {
        return Ok(Some(tree));
    }
    let Ok(entry) = tree.get_path(Path::new(path)) else {
        return Ok(None);
    };
    if entry.kind() != Some(ObjectType::Tree) {
        return Ok(None);
    }
    repo.find_tree(entry.id()).map(Some).map_err(|e| e.message().to_owned())
}

/// The source type of `path` in commit `sha` (`None`: no such folder).
pub(crate) fn source_type(
    repo: &Repository,
    sha: &str,
    path: &str,
) -> Result<Option<crate::render::SourceType>, String> {
    let Some(tree) = subtree(repo, sha, path)? else {
        return Ok(None);
    };
    let has = |name: &str| tree.get_name(name).is_some_and(|e| e.kind() == Some(ObjectType::Blob));
    Ok(Some(
        if has("kustomization.yaml") || has("kustomization.yml") || has("Kustomization") {
            crate::render::SourceType::Kustomize
        } else if has("Chart.yaml") {
            crate::render::SourceType::Helm
        } else {
            crate::render::SourceType::Directory
        },
    ))
}

/// The kustomization file of folder `path` in commit `sha` (`None`: not a folder, or none there).
pub(crate) fn kustomization(repo: &Repository, sha: &str, path: &str) -> Result<Option<String>, String> {
    let Some(tree) = subtree(repo, sha, path)? else {
        return Ok(None);
    };
    for name in crate::render::kustomize_inputs::KUSTOMIZATION_FILES {
        if let Some(entry) = tree.get_name(name).filter(|e| e.kind() == Some(ObjectType::Blob)) {
            let blob = repo.find_blob(entry.id()).map_err(|e| e.message().to_owned())?;
            return Ok(Some(String::from_utf8_lossy(blob.content()).into_owned()));
        }
    }
    Ok(None)
}

/// Every file under `path` of commit `sha`: (relative to `path`, relative to the root, content).
pub(crate) fn files(repo: &Repository, sha: &str, path: &str) -> Result<Vec<(String, String, Vec<u8>)>, String> {
    let Some(tree) = subtree(repo, sha, path)? else {
        return Ok(Vec::new());
    };
    let base = path.trim_start_matches("./").trim_matches('/');
    let mut out = Vec::new();
    let mut failure = None;
    tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        if entry.kind() != Some(ObjectType::Blob) || entry.filemode() == 0o120_000 {
            return git2::TreeWalkResult::Ok;
        }
        let Ok(name) = entry.name() else {
            return git2::TreeWalkResult::Ok;
        };
        let relative = format!("{dir}{name}");
        let shown = if base.is_empty() || base == "." {
            relative.clone()
        } else {
            format!("{base}/{relative}")
        };
        match repo.find_blob(entry.id()) {
            Ok(blob) => out.push((relative, shown, blob.content().to_vec())),
            Err(e) => {
                failure = Some(e.message().to_owned());
                return git2::TreeWalkResult::Abort;
            }
        }
        git2::TreeWalkResult::Ok
    })
    .map_err(|e| e.message().to_owned())?;
    match failure {
        Some(message) => Err(message),
        None => Ok(out),
    }
}

/// Every directory and every file path of commit `sha` (from the root, `/`-separated), without
/// reading a file.
pub(crate) fn listing(repo: &Repository, sha: &str) -> Result<(Vec<String>, Vec<String>), String> {
    let tree = tree_of(repo, sha)?;
    let (mut dirs, mut files) = (Vec::new(), Vec::new());
    tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        let Ok(name) = entry.name() else {
            return git2::TreeWalkResult::Ok;
        };
        match entry.kind() {
            Some(ObjectType::Tree) => dirs.push(format!("{dir}{name}")),
            Some(ObjectType::Blob) if entry.filemode() != 0o120_000 => files.push(format!("{dir}{name}")),
            _ => {}
        }
        git2::TreeWalkResult::Ok
    })
    .map_err(|e| e.message().to_owned())?;
    Ok((dirs, files))
}

/// The content of file `path` of commit `sha` (`None`: no such file).
pub(crate) fn read(repo: &Repository, sha: &str, path: &str) -> Result<Option<Vec<u8>>, String> {
    let tree = tree_of(repo, sha)?;
    let Ok(entry) = tree.get_path(Path::new(path.trim_start_matches('/'))) else {
        return Ok(None);
    };
    if entry.kind() != Some(ObjectType::Blob) {
        return Ok(None);
    }
    let blob = repo.find_blob(entry.id()).map_err(|e| e.message().to_owned())?;
    Ok(Some(blob.content().to_vec()))
}

/// Paths that differ between two commits.
pub(crate) fn changed_paths(repo: &Repository, from: &str, to: &str) -> Result<Vec<String>, String> {
    let (old, new) = (tree_of(repo, from)?, tree_of(repo, to)?);
    let diff = repo
        .diff_tree_to_tree(Some(&old), Some(&new), None)
        .map_err(|e| e.message().to_owned())?;
    let mut paths = Vec::new();
    for delta in diff.deltas() {
        for file in [delta.old_file(), delta.new_file()] {
            if let Some(p) = file.path().and_then(Path::to_str)
                && !paths.iter().any(|known: &String| known == p)
            {
                paths.push(p.to_owned());
            }
        }
    }
    Ok(paths)
}
