//! The demo's Git repository: a bare repository in a temporary folder that the controller reaches
//! by `file://` like any remote, and a working copy beside it where the demo commits and pushes
//! as a person would (through libgit2, so nothing beyond the `sluice` binary is needed).

use std::path::{Path, PathBuf};

use git2::{IndexAddOption, Oid, PushOptions, Repository, Signature};

use crate::commands::CommandError;

fn fail(what: &str, e: &git2::Error) -> CommandError {
    CommandError::Demo(format!("Git ({what}): {}", e.message()))
}

/// The bare repository and its working copy; the folder is removed on drop.
pub struct DemoRepo {
    root: PathBuf,
    bare: Repository,
    work: Repository,
}

/// A commit as `git log --format='%h %s'` and its trailers show it.
pub struct Shown {
    /// Short SHA.
    pub short: String,
    /// Full SHA.
    pub sha: String,
    /// The whole message.
    pub message: String,
}

impl DemoRepo {
    /// Creates `root/api.git` (bare, branch `main`) and `root/work`.
    ///
    /// # Errors
    /// The folder or the repositories cannot be made.
    pub fn create(root: &Path) -> Result<Self, CommandError> {
        std::fs::create_dir_all(root).map_err(|e| CommandError::Demo(format!("{}: {e}", root.display())))?;
        let mut init = git2::RepositoryInitOptions::new();
        init.bare(true).initial_head("main");
        let bare = Repository::init_opts(root.join("api.git"), &init).map_err(|e| fail("init", &e))?;
        let mut init = git2::RepositoryInitOptions::new();
        init.initial_head("main");
        let work = Repository::init_opts(root.join("work"), &init).map_err(|e| fail("init", &e))?;
        Ok(Self {
            root: root.to_path_buf(),
            bare,
            work,
        })
    }

    /// The URL the Application names.
    #[must_use]
    pub fn url(&self) -> String {
        format!("file://{}", self.root.join("api.git").display())
    }

    /// The folder to `git clone`.
    #[must_use]
    pub fn path(&self) -> PathBuf {
        self.root.join("api.git")
    }

    /// Writes `files` (path, content), commits them with `message` and pushes `main`.
    ///
    /// # Errors
    /// A file or a Git step fails.
    pub fn commit(&self, files: &[(&str, &str)], message: &str) -> Result<Shown, CommandError> {
        self.pull()?;
        let dir = self.root.join("work");
        for (path, content) in files {
            let file = dir.join(path);
            if let Some(parent) = file.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| CommandError::Demo(format!("{}: {e}", parent.display())))?;
            }
            std::fs::write(&file, content).map_err(|e| CommandError::Demo(format!("{}: {e}", file.display())))?;
        }
        let mut index = self.work.index().map_err(|e| fail("index", &e))?;
        index
            .add_all(["*"], IndexAddOption::DEFAULT, None)
            .map_err(|e| fail("add", &e))?;
        index.write().map_err(|e| fail("index", &e))?;
        let tree = self
            .work
            .find_tree(index.write_tree().map_err(|e| fail("tree", &e))?)
            .map_err(|e| fail("tree", &e))?;
        let who = Signature::now("Demo Developer", "dev@sluice.demo").map_err(|e| fail("signature", &e))?;
        let parent = self.work.head().ok().and_then(|h| h.peel_to_commit().ok());
        let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
        let oid = self
            .work
            .commit(Some("HEAD"), &who, &who, message, &tree, &parents)
            .map_err(|e| fail("commit", &e))?;
        let mut remote = self
            .work
            .remote_anonymous(&self.url())
            .map_err(|e| fail("remote", &e))?;
        remote
            .push(&["refs/heads/main:refs/heads/main"], Some(&mut PushOptions::new()))
            .map_err(|e| fail("push", &e))?;
        self.show(oid)
    }

    /// Fast-forwards the working copy to the remote's `main` (Sluice may have pushed a revert).
    fn pull(&self) -> Result<(), CommandError> {
        let Some(tip) = self.tip() else { return Ok(()) };
        let mut remote = self
            .work
            .remote_anonymous(&self.url())
            .map_err(|e| fail("remote", &e))?;
        remote
            .fetch(&["refs/heads/main:refs/remotes/origin/main"], None, None)
            .map_err(|e| fail("fetch", &e))?;
        let object = self.work.find_object(tip, None).map_err(|e| fail("fetch", &e))?;
        self.work
            .checkout_tree(&object, Some(git2::build::CheckoutBuilder::new().force()))
            .map_err(|e| fail("checkout", &e))?;
        self.work
            .reference("refs/heads/main", tip, true, "demo pull")
            .map_err(|e| fail("pull", &e))?;
        self.work.set_head("refs/heads/main").map_err(|e| fail("pull", &e))?;
        Ok(())
    }

    /// The remote's `main`.
    #[must_use]
    pub fn tip(&self) -> Option<Oid> {
        self.bare.refname_to_id("refs/heads/main").ok()
    }

    /// A commit of the remote (or the working copy).
    ///
    /// # Errors
    /// No such commit.
    pub fn show(&self, oid: Oid) -> Result<Shown, CommandError> {
        let commit = self
            .bare
            .find_commit(oid)
            .or_else(|_| self.work.find_commit(oid))
            .map_err(|e| fail("log", &e))?;
        let sha = oid.to_string();
        Ok(Shown {
            short: sha[..7].to_owned(),
            sha,
            message: commit.message().unwrap_or_default().to_owned(),
        })
    }
}

impl Drop for DemoRepo {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
