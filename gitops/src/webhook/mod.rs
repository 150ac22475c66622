//! Git push webhooks, as Argo CD's `/api/webhook` reads them: GitHub (`X-GitHub-Event: push`,
//! `X-Hub-Signature-256: sha256=<HMAC-SHA256>`), GitLab (`X-Gitlab-Event: Push Hook`,
//! `X-Gitlab-Token`), Gitea and Gogs (`X-Gitea-Event`/`X-Gogs-Event`, `X-Gitea-Signature`/
//! `X-Gogs-Signature`: hex HMAC-SHA256). With a secret configured for the provider, a missing or
//! wrong signature is refused; without one, pushes are taken as Argo CD takes them. The result
//! names the repository (every URL the payload gives), the branch and the changed files.

use hmac::{Hmac, KeyInit as _, Mac as _};
use serde_json::Value;
use sha2::Sha256;

/// Shared secrets per provider (Argo CD's `webhook.github.secret`, `webhook.gitlab.secret`,
/// `webhook.gogs.secret` in `argocd-secret`).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    /// GitHub.
    pub github: Option<String>,
    /// GitLab.
    pub gitlab: Option<String>,
    /// Gitea and Gogs.
    pub gogs: Option<String>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets { ***** }")
    }
}

/// A push.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Push {
    /// Every URL of the repository the payload names (web, clone, ssh).
    pub urls: Vec<String>,
    /// The branch or tag pushed (`main`, without `refs/heads/`).
    pub revision: String,
    /// Files added, modified or removed by the pushed commits (empty when unknown).
    pub changed: Vec<String>,
}

/// Why a webhook request is not acted on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refused {
    /// The signature or token is missing or wrong (HTTP 401).
    Unauthorized(String),
    /// Not a push we read (HTTP 400, or 200 for events that are not pushes).
    Unsupported(String),
}

impl std::error::Error for Refused {}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unauthorized(m) | Self::Unsupported(m) => f.write_str(m),
        }
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn hmac_matches(secret: &str, body: &[u8], hex_signature: &str) -> bool {
    let Ok(signature) = hex::decode(hex_signature.trim()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&signature).is_ok()
}

/// Compares in constant time, for tokens.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Reads one webhook request.
///
/// # Errors
/// [`Refused::Unauthorized`] for a bad signature, [`Refused::Unsupported`] otherwise.
pub fn parse(headers: &[(String, String)], body: &[u8], secrets: &Secrets) -> Result<Push, Refused> {
    let unauthorized = |p: &str| {
        Refused::Unauthorized(format!(
            "{p} webhook: the signature does not match the configured secret"
        ))
    };
    let (provider, event) = if let Some(e) = header(headers, "X-GitHub-Event") {
        if let Some(secret) = &secrets.github {
            let signature = header(headers, "X-Hub-Signature-256").and_then(|s| s.strip_prefix("sha256="));
            if !signature.is_some_and(|s| hmac_matches(secret, body, s)) {
                return Err(unauthorized("GitHub"));
            }
        }
        ("GitHub", e)
    } else if let Some(e) = header(headers, "X-Gitlab-Event") {
        if let Some(secret) = &secrets.gitlab
            && !header(headers, "X-Gitlab-Token").is_some_and(|t| same(t, secret))
        {
            return Err(unauthorized("GitLab"));
        }
        ("GitLab", e)
    } else if let Some(e) = header(headers, "X-Gitea-Event").or_else(|| header(headers, "X-Gogs-Event")) {
        if let Some(secret) = &secrets.gogs {
            let signature = header(headers, "X-Gitea-Signature").or_else(|| header(headers, "X-Gogs-Signature"));
            if !signature.is_some_and(|s| hmac_matches(secret, body, s)) {
                return Err(unauthorized("Gitea"));
            }
        }
        ("Gitea", e)
    } else {
        return Err(Refused::Unsupported(
            "unknown webhook: no X-GitHub-Event, X-Gitlab-Event, X-Gitea-Event or X-Gogs-Event header".into(),
        ));
    };
    if !matches!(event, "push" | "Push Hook" | "Tag Push Hook") {
        return Err(Refused::Unsupported(format!(
            "{provider} event {event:?} is not a push"
        )));
    }
    let payload: Value =
        serde_json::from_slice(body).map_err(|e| Refused::Unsupported(format!("{provider} push: {e}")))?;
    let repository = payload
        .get("repository")
        .or_else(|| payload.get("project"))
        .unwrap_or(&Value::Null);
    let urls: Vec<String> = [
        "html_url",
        "clone_url",
        "ssh_url",
        "git_url",
        "web_url",
        "git_http_url",
        "git_ssh_url",
        "url",
        "homepage",
    ]
    .iter()
    .filter_map(|k| repository.get(*k).and_then(Value::as_str))
    .filter(|u| !u.is_empty())
    .map(str::to_owned)
    .collect();
    if urls.is_empty() {
        return Err(Refused::Unsupported(format!("{provider} push names no repository URL")));
    }
    let reference = payload.get("ref").and_then(Value::as_str).unwrap_or_default();
    let revision = reference
        .strip_prefix("refs/heads/")
        .or_else(|| reference.strip_prefix("refs/tags/"))
        .unwrap_or(reference)
        .to_owned();
    let mut changed = Vec::new();
    for commit in payload.get("commits").and_then(Value::as_array).into_iter().flatten() {
        for list in ["added", "modified", "removed"] {
            for file in commit
                .get(list)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if !changed.iter().any(|c: &String| c == file) {
                    changed.push(file.to_owned());
                }
            }
        }
    }
    Ok(Push {
        urls,
        revision,
        changed,
    })
}

/// Whether a push to `push` concerns an Application on `repo_url` at `target_revision`: same
/// repository (ignoring scheme, user, `.git` and case), and the pushed branch is the target
/// (`HEAD` or empty: any push, as the default branch is not in every payload).
#[must_use]
pub fn concerns(push: &Push, repo_url: &str, target_revision: &str) -> bool {
    let wanted = crate::project::normalize_repo(repo_url);
    let same_repo = push.urls.iter().any(|u| crate::project::normalize_repo(u) == wanted);
    let same_revision = matches!(target_revision, "" | "HEAD") || target_revision == push.revision;
    same_repo && same_revision
}

/// Whether the changed files touch the paths an Application renders from: `paths` is the
/// `argocd.argoproj.io/manifest-generate-paths` annotation (`;`-separated; relative to the
/// source `path` unless starting with `/`), defaulting to the source path. Unknown changes
/// (an empty list) always touch.
#[must_use]
pub fn touches(changed: &[String], source_path: &str, annotation: Option<&str>) -> bool {
    if changed.is_empty() {
        return true;
    }
    let base = source_path.trim_matches('/');
    let paths: Vec<String> = match annotation {
        Some(a) => a
            .split(';')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| match p.strip_prefix('/') {
                Some(absolute) => absolute.trim_end_matches('/').to_owned(),
                None => normalize_path(&format!("{base}/{p}")),
            })
            .collect(),
        None => vec![base.to_owned()],
    };
    changed.iter().any(|file| {
        paths
            .iter()
            .any(|p| p.is_empty() || p == "." || file == p || file.starts_with(&format!("{p}/")))
    })
}

fn normalize_path(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests;
