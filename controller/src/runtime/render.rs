//! The Git side of observing an Application: its source's credentials (from Argo CD repository
//! Secrets), the commit its `targetRevision` names (from the repository cache; fetched only when
//! unknown, on a refresh, or when the poller saw a change), and the manifests at its path (rendered
//! once per commit, path and options: an unchanged commit is never rendered again; a directory
//! is read straight from the commit, Kustomize and Helm get a private checkout). Git and the
//! renderers block, so they run on tokio's blocking pool.

use std::collections::HashMap;
use std::sync::Arc;

use crds::gitops::ApplicationSource;
use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt as _;
use parking_lot::Mutex;
use repo::credentials::RepoSecret;
use repo::remote::Access;
use repo::render::{RenderOptions, Rendered};

use super::GitOps;

/// What rendering gave, shared between Applications on the same source.
pub type RenderResult = Arc<Result<Rendered, String>>;

/// Renders by (repository, commit, path, options).
#[derive(Default)]
pub struct RenderCache(Mutex<HashMap<String, RenderResult>>);

impl RenderCache {
    fn get(&self, key: &str) -> Option<RenderResult> {
        self.0.lock().get(key).cloned()
    }

    fn put(&self, key: String, value: RenderResult) {
        let mut map = self.0.lock();
        // Bounded: old commits' renders go first once many are held.
        if map.len() > 512 {
            map.clear();
        }
        map.insert(key, value);
    }
}

/// The Git side of a snapshot.
#[derive(Clone, Debug)]
pub struct Source {
    /// The repository URL.
    pub url: String,
    /// The commit synced to (full SHA).
    pub revision: String,
    /// The rendered manifests (or why they could not be rendered).
    pub rendered: RenderResult,
}

/// Why there is no source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceError {
    /// Git could not be asked or did not answer (the remote down, refusing, timing out): unknown,
    /// never a verdict on the Application.
    Unreadable(String),
    /// What Git or the repository Secret holds cannot be used (no such revision, credentials that
    /// cannot work).
    Invalid(String),
}

impl From<repo::GitError> for SourceError {
    /// A remote that cannot be reached and a cache that cannot be used are unknown; a revision
    /// that does not exist and credentials that cannot work are what the user wrote.
    fn from(error: repo::GitError) -> Self {
        let message = error.to_string();
        match error {
            repo::GitError::UnknownRevision { .. } | repo::GitError::Credentials { .. } => Self::Invalid(message),
            _ => Self::Unreadable(message),
        }
    }
}

impl SourceError {
    /// The message, owned.
    #[must_use]
    pub fn into_message(self) -> String {
        match self {
            Self::Unreadable(m) | Self::Invalid(m) => m,
        }
    }
}

/// The repository Secrets among `secrets`.
pub fn repo_secrets<'a>(secrets: impl IntoIterator<Item = &'a Secret>) -> Vec<RepoSecret> {
    secrets
        .into_iter()
        .filter_map(|s| RepoSecret::from_secret(&s.name_any(), s.labels(), crds::secrets::fields(s)))
        .collect()
}

/// The access (credentials and transport) for reading `url`.
///
/// # Errors
/// A matching Secret whose credentials cannot be used.
pub fn access(ctx: &GitOps, url: &str) -> Result<Access, SourceError> {
    access_with(ctx, url, false)
}

/// The access for pushing to `url`: write credentials first (`repository-write`).
///
/// # Errors
/// A matching Secret whose credentials cannot be used.
pub fn write_access(ctx: &GitOps, url: &str) -> Result<Access, SourceError> {
    access_with(ctx, url, true)
}

fn access_with(ctx: &GitOps, url: &str, push: bool) -> Result<Access, SourceError> {
    let secrets = repo_secrets(ctx.secrets.state().iter().map(|s| &**s));
    let hosts = ctx.known_hosts.state();
    let known_hosts = hosts
        .iter()
        .filter_map(|c| c.data.as_ref()?.get(repo::credentials::KNOWN_HOSTS_KEY))
        .map(String::as_str);
    repo::credentials::resolve(url, &secrets, known_hosts, push).map_err(SourceError::Invalid)
}

/// The render options an Application source asks for.
#[must_use]
pub fn render_options(source: &ApplicationSource, namespace: &str, ctx: &GitOps) -> RenderOptions {
    let mut options = repo::source::render_options(source, namespace, ctx.settings.render_timeout);
    options.helm_binary.clone_from(&ctx.settings.helm_binary);
    options
}

/// What the Git side needs to know about one Application.
pub struct Request<'a> {
    /// The source.
    pub source: &'a ApplicationSource,
    /// The revision to resolve (`operation.sync.revision` or `targetRevision`).
    pub revision: &'a str,
    /// The Application's name (Helm's default release name; the render's folder).
    pub app: &'a str,
    /// The destination namespace.
    pub namespace: &'a str,
    /// Fetch before resolving (a refresh was asked for).
    pub fetch: bool,
    /// Render again even if this commit was rendered (a hard refresh).
    pub rerender: bool,
    /// The revision rendered last time, and the `manifest-generate-paths` annotation: a new
    /// commit that touches none of those paths reuses the last render.
    pub previous: Option<(&'a str, &'a str)>,
}

/// Resolves and renders the source of one Application.
pub async fn observe(ctx: &Arc<GitOps>, request: Request<'_>) -> Result<Source, SourceError> {
    let url = request.source.repo_url.clone();
    let access = access(ctx, &url)?;
    let options = render_options(request.source, request.namespace, ctx);
    let path = request.source.path.clone().unwrap_or_default();
    let (revision, fetch, rerender) = (request.revision.to_owned(), request.fetch, request.rerender);
    let app = request.app.to_owned();
    let previous = request.previous.map(|(r, p)| (r.to_owned(), p.to_owned()));
    let shared = ctx.clone();
    let metrics = ctx.base.metrics.clone();
    let task = tokio::task::spawn_blocking(move || {
        let repos = &shared.repos;
        let seen = repos.fetch_count(&url);
        let resolved = if fetch || seen == 0 {
            Err(())
        } else {
            repos.resolve(&url, &revision).map_err(|_| ())
        };
        let sha = match resolved {
            Ok(sha) => sha,
            Err(()) => {
                let timer = metrics.git_fetch();
                let fetched = repos.fetch(&url, &access, seen);
                timer.done(fetched.is_ok());
                fetched.map_err(SourceError::from)?;
                repos.resolve(&url, &revision).map_err(SourceError::from)?
            }
        };
        let key = format!("{url}\n{sha}\n{path}\n{options:?}");
        if !rerender && let Some(hit) = shared.renders.get(&key) {
            return Ok(Source {
                url,
                revision: sha,
                rendered: hit,
            });
        }
        if !rerender
            && let Some((old, paths)) = &previous
            && *old != sha
            && let Some(hit) = shared.renders.get(&format!("{url}\n{old}\n{path}\n{options:?}"))
            && repos
                .changed_paths(&url, old, &sha)
                .is_ok_and(|changed| !gitops::webhook::touches(&changed, &path, Some(paths)))
        {
            shared.renders.put(key, hit.clone());
            return Ok(Source {
                url,
                revision: sha,
                rendered: hit,
            });
        }
        let rendered = render_commit(&shared, &url, &sha, &path, &app, &options);
        let rendered: RenderResult = Arc::new(rendered);
        shared.renders.put(key, rendered.clone());
        Ok(Source {
            url,
            revision: sha,
            rendered,
        })
    });
    task.await
        .map_err(|e| SourceError::Unreadable(format!("render task: {e}")))?
}

fn render_commit(
    ctx: &GitOps,
    url: &str,
    sha: &str,
    path: &str,
    app: &str,
    options: &RenderOptions,
) -> Result<Rendered, String> {
    use repo::render::{RenderError, SourceType};
    let missing = || RenderError::MissingPath(path.to_owned()).to_string();
    if path.split('/').any(|c| c == "..") {
        return Err(missing());
    }
    // A directory source is read straight from the commit; Kustomize and Helm need a checkout
    // (their bases and charts may live anywhere in the repository).
    match ctx.repos.source_type(url, sha, path).map_err(|e| e.to_string())? {
        None => return Err(missing()),
        Some(SourceType::Directory) => {
            let files = ctx.repos.files(url, sha, path).map_err(|e| e.to_string())?;
            return repo::render::render_directory_files(files, options).map_err(|e| e.to_string());
        }
        Some(_) => {}
    }
    let dir = ctx.repos.root().join("work").join(format!(
        "{}-{app}-{}",
        &sha[..sha.len().min(12)],
        uuid::Uuid::new_v4().simple()
    ));
    ctx.repos.export(url, sha, &dir).map_err(|e| e.to_string())?;
    let worktree = repo::checkout::Worktree::new(dir);
    repo::render::render(worktree.path(), path, app, options).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::SourceError;

    /// Only what the user wrote is Invalid; a remote or cache that fails is Unreadable (unknown).
    #[test]
    fn git_errors_are_unreadable_unless_they_are_the_users() {
        let url = "https://git.example/app.git".to_owned();
        let remote = repo::GitError::Remote {
            url: url.clone(),
            message: "connection refused".into(),
        };
        assert!(matches!(SourceError::from(remote), SourceError::Unreadable(m) if m.contains("connection refused")));
        let revision = repo::GitError::UnknownRevision {
            url,
            revision: "v9".into(),
        };
        assert!(matches!(SourceError::from(revision), SourceError::Invalid(m) if m.contains("\"v9\"")));
    }
}
