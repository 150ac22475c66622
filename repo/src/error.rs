//! Errors of the Git work. Messages name the repository and the revision, never a credential:
//! credentials reach libgit2 only through callbacks, and URLs carrying a password are masked.

use thiserror::Error;

/// What went wrong talking to a repository.
#[derive(Debug, Error)]
pub enum GitError {
    /// The repository could not be reached or refused us.
    #[error("repository {url}: {message}")]
    Remote {
        /// The repository, masked.
        url: String,
        /// What libgit2 said.
        message: String,
    },
    /// The revision names nothing in the repository.
    #[error("repository {url}: revision {revision:?} not found (not a branch, tag or commit)")]
    UnknownRevision {
        /// The repository, masked.
        url: String,
        /// What was asked for.
        revision: String,
    },
    /// The cache on disk could not be used.
    #[error("repository cache {path}: {message}")]
    Cache {
        /// The cache folder.
        path: String,
        /// What failed.
        message: String,
    },
    /// A credential that cannot be used as written.
    #[error("credentials for {url}: {message}")]
    Credentials {
        /// The repository, masked.
        url: String,
        /// What is wrong (never the value).
        message: String,
    },
}

/// `url` with any password in its user-info replaced by `*****`.
#[must_use]
pub fn mask_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
    match authority.rsplit_once('@') {
        Some((user_info, host)) if user_info.contains(':') => {
            let user = user_info.split_once(':').map_or(user_info, |(u, _)| u);
            let slash = if path.is_empty() && !rest.contains('/') {
                ""
            } else {
                "/"
            };
            format!("{scheme}://{user}:*****@{host}{slash}{path}")
        }
        _ => url.to_owned(),
    }
}

/// A libgit2 error for `url`, with the URL masked wherever libgit2 repeated it.
pub(crate) fn remote(url: &str, error: &git2::Error) -> GitError {
    let masked = mask_url(url);
    GitError::Remote {
        message: error.message().replace(url, &masked),
        url: masked,
    }
}

#[cfg(test)]
mod tests {
    use super::mask_url;

    #[test]
    fn passwords_in_urls_are_masked() {
        assert_eq!(
            mask_url("https://bob:hunter2@git.example/a/b.git"),
            "https://bob:*****@git.example/a/b.git"
        );
        assert_eq!(mask_url("https://git.example/a.git"), "https://git.example/a.git");
        assert_eq!(mask_url("git@github.com:org/repo.git"), "git@github.com:org/repo.git");
        assert_eq!(mask_url("ssh://git@host:22/r.git"), "ssh://git@host:22/r.git");
    }
}
