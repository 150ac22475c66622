//! Repository credentials in Argo CD's Secret format: a Secret labelled
//! `argocd.argoproj.io/secret-type: repository` applies to the repository whose `url` it names
//! exactly; one labelled `repo-creds` applies to every repository whose URL starts with its `url`
//! (the longest prefix wins), as Argo CD's `getRepositoryCredentialIndex` picks; pushes prefer
//! the `repository-write` and `repo-write-creds` kinds of Argo CD's source hydrator. A credential's
//! value never appears in `Debug`, `Display` or an error.

use std::collections::BTreeMap;
use std::fmt;

pub use crds::keys::SECRET_TYPE_LABEL;

/// A value that must not be shown.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    #[must_use]
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, for the one place that hands it to libgit2.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("*****")
    }
}

/// How to authenticate to a repository.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Credentials {
    /// No credentials (public repository, `git://`, `file://`).
    #[default]
    Anonymous,
    /// HTTPS user name and password (or access token as password).
    Basic {
        /// User name.
        username: String,
        /// Password or token.
        password: Secret,
    },
    /// HTTPS bearer token (`bearerToken`, Bitbucket Data Center's access tokens).
    Bearer {
        /// The token.
        token: Secret,
    },
    /// SSH private key.
    Ssh {
        /// User name (`git` unless the URL names one).
        username: Option<String>,
        /// PEM or OpenSSH private key.
        private_key: Secret,
    },
}

/// Transport settings that come with the credentials.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Transport {
    /// Skip TLS verification (`insecure: "true"`).
    pub insecure: bool,
    /// Accept any SSH host key (`insecureIgnoreHostKey: "true"`).
    pub insecure_ignore_host_key: bool,
    /// Known SSH host keys, in `known_hosts` format (Argo CD's `argocd-ssh-known-hosts-cm`);
    /// empty: libgit2's own check (`~/.ssh/known_hosts`).
    pub known_hosts: Vec<String>,
}

/// Which kind of repository Secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretKind {
    /// `repository`: one repository, by exact URL.
    Repository,
    /// `repo-creds`: a credential template for URLs with this prefix.
    RepoCreds,
    /// `repository-write`: one repository, for pushing (Argo CD's source hydrator's kind).
    RepositoryWrite,
    /// `repo-write-creds`: a credential template for pushing to URLs with this prefix.
    RepoWriteCreds,
}

impl SecretKind {
    /// The kind a `argocd.argoproj.io/secret-type` label value names.
    #[must_use]
    pub fn from_label(value: &str) -> Option<Self> {
        match value {
            "repository" => Some(Self::Repository),
            "repo-creds" => Some(Self::RepoCreds),
            "repository-write" => Some(Self::RepositoryWrite),
            "repo-write-creds" => Some(Self::RepoWriteCreds),
            _ => None,
        }
    }
}

/// A repository Secret as read from the cluster: its name, kind and decoded `data`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepoSecret {
    /// The Secret's name (for messages).
    pub name: String,
    /// Repository or credential template.
    pub kind: SecretKind,
    /// Decoded data, by key (`url`, `username`, `password`, `bearerToken`, `sshPrivateKey`, ...).
    pub data: BTreeMap<String, Secret>,
}

impl RepoSecret {
    /// A repository Secret from a cluster Secret's name, labels and data (`data` decoded and
    /// `stringData`); `None` when it is not labelled as one or a value is not UTF-8.
    pub fn from_secret<'a>(
        name: &str,
        labels: &std::collections::BTreeMap<String, String>,
        data: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    ) -> Option<Self> {
        let kind = SecretKind::from_label(labels.get(SECRET_TYPE_LABEL)?)?;
        let mut values = BTreeMap::new();
        for (key, value) in data {
            values.insert(key.to_owned(), Secret::new(std::str::from_utf8(value).ok()?));
        }
        Some(Self {
            name: name.to_owned(),
            kind,
            data: values,
        })
    }

    fn field(&self, key: &str) -> Option<&str> {
        self.data.get(key).map(Secret::expose).filter(|v| !v.is_empty())
    }

    /// The URL (or URL prefix) it applies to.
    #[must_use]
    pub fn url(&self) -> Option<&str> {
        self.field("url")
    }

    /// The credentials it holds, or a message (naming the keys, not their values) when they
    /// cannot be used.
    pub fn credentials(&self) -> Result<(Credentials, Transport), String> {
        let transport = Transport {
            insecure: self.field("insecure") == Some("true"),
            insecure_ignore_host_key: self.field("insecureIgnoreHostKey") == Some("true"),
            known_hosts: Vec::new(),
        };
        let credentials = if let Some(key) = self.field("sshPrivateKey") {
            Credentials::Ssh {
                username: self.field("username").map(str::to_owned),
                private_key: Secret::new(key),
            }
        } else if let Some(token) = self.field("bearerToken") {
            if token.contains(['\n', '\r', '\0']) {
                return Err(format!("Secret {}: bearerToken holds a line break", self.name));
            }
            Credentials::Bearer {
                token: Secret::new(token),
            }
        } else {
            match (self.field("username"), self.field("password")) {
                (Some(u), Some(p)) => Credentials::Basic {
                    username: u.to_owned(),
                    password: Secret::new(p),
                },
                (None, None) => Credentials::Anonymous,
                (Some(_), None) => return Err(format!("Secret {}: username without password", self.name)),
                (None, Some(_)) => return Err(format!("Secret {}: password without username", self.name)),
            }
        };
        Ok((credentials, transport))
    }
}

/// The Secret that holds the credentials for reading `url`: a `repository` Secret naming it
/// exactly (ignoring a trailing `.git` and `/`), else the `repo-creds` Secret with the longest URL
/// prefix.
#[must_use]
pub fn select<'a>(url: &str, secrets: &'a [RepoSecret]) -> Option<&'a RepoSecret> {
    pick(url, secrets, SecretKind::Repository, SecretKind::RepoCreds)
}

/// The Secret that holds the credentials for pushing to `url`: the write kinds first
/// (`repository-write`, then `repo-write-creds`, as Argo CD's hydrator picks them), else the
/// read credentials of [`select`].
#[must_use]
pub fn select_write<'a>(url: &str, secrets: &'a [RepoSecret]) -> Option<&'a RepoSecret> {
    pick(url, secrets, SecretKind::RepositoryWrite, SecretKind::RepoWriteCreds).or_else(|| select(url, secrets))
}

/// The access (credentials and transport) for `url`, the one resolution the controller and the
/// plugin share: the Secret [`select`] (or, for a push, [`select_write`]) picks, and the SSH host
/// keys of `known_hosts` (the texts of `argocd-ssh-known-hosts-cm`'s `ssh_known_hosts`, as Argo CD
/// reads them). No matching Secret: anonymous access.
///
/// # Errors
/// The matching Secret's credentials cannot be used (the message names keys, never values).
pub fn resolve<'a>(
    url: &str,
    secrets: &[RepoSecret],
    known_hosts: impl IntoIterator<Item = &'a str>,
    push: bool,
) -> Result<crate::remote::Access, String> {
    let chosen = if push {
        select_write(url, secrets)
    } else {
        select(url, secrets)
    };
    let mut access = match chosen {
        None => crate::remote::Access::default(),
        Some(secret) => {
            let (credentials, transport) = secret.credentials()?;
            crate::remote::Access { credentials, transport }
        }
    };
    access.transport.known_hosts = known_hosts
        .into_iter()
        .flat_map(str::lines)
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(str::to_owned)
        .collect();
    Ok(access)
}

/// The ConfigMap holding SSH known hosts (Argo CD's), in the Application namespace.
pub const KNOWN_HOSTS_CONFIGMAP: &str = "argocd-ssh-known-hosts-cm";
/// Its key with the `known_hosts` text.
pub const KNOWN_HOSTS_KEY: &str = "ssh_known_hosts";

fn pick<'a>(url: &str, secrets: &'a [RepoSecret], exact: SecretKind, prefix: SecretKind) -> Option<&'a RepoSecret> {
    let wanted = normalize(url);
    let named = secrets
        .iter()
        .filter(|s| s.kind == exact)
        .find(|s| s.url().is_some_and(|u| normalize(u) == wanted));
    named.or_else(|| {
        secrets
            .iter()
            .filter(|s| s.kind == prefix)
            .filter_map(|s| s.url().filter(|p| url.starts_with(p)).map(|p| (p.len(), s)))
            .max_by_key(|(len, _)| *len)
            .map(|(_, s)| s)
    })
}

fn normalize(url: &str) -> String {
    url.trim_end_matches('/').trim_end_matches(".git").to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(name: &str, kind: SecretKind, data: &[(&str, &str)]) -> RepoSecret {
        RepoSecret {
            name: name.into(),
            kind,
            data: data.iter().map(|(k, v)| ((*k).to_owned(), Secret::new(*v))).collect(),
        }
    }

    #[test]
    fn pushes_use_write_credentials_first_and_reads_never_do() {
        let url = "https://git.example/org/app.git";
        let secrets = vec![
            secret("read", SecretKind::Repository, &[("url", url)]),
            secret(
                "write-org",
                SecretKind::RepoWriteCreds,
                &[("url", "https://git.example/org")],
            ),
            secret("write", SecretKind::RepositoryWrite, &[("url", url)]),
        ];
        let name = |s: Option<&RepoSecret>| s.map(|s| s.name.clone());
        assert_eq!(name(select(url, &secrets)).as_deref(), Some("read"));
        assert_eq!(name(select_write(url, &secrets)).as_deref(), Some("write"));
        assert_eq!(
            name(select_write("https://git.example/org/other.git", &secrets)).as_deref(),
            Some("write-org")
        );
        assert_eq!(
            name(select_write(url, &secrets[..1])).as_deref(),
            Some("read"),
            "without write credentials the read ones push"
        );
        assert_eq!(
            SecretKind::from_label("repository-write"),
            Some(SecretKind::RepositoryWrite)
        );
    }

    #[test]
    fn exact_repository_beats_the_longest_prefix_which_beats_a_shorter_one() {
        let secrets = vec![
            secret("org", SecretKind::RepoCreds, &[("url", "https://git.example/org")]),
            secret(
                "team",
                SecretKind::RepoCreds,
                &[("url", "https://git.example/org/team")],
            ),
            secret(
                "one",
                SecretKind::Repository,
                &[("url", "https://git.example/org/team/app.git")],
            ),
        ];
        let name = |url: &str| select(url, &secrets).map(|s| s.name.as_str());
        assert_eq!(name("https://git.example/org/team/app"), Some("one"));
        assert_eq!(name("https://git.example/org/team/other.git"), Some("team"));
        assert_eq!(name("https://git.example/org/x.git"), Some("org"));
        assert_eq!(name("https://elsewhere.example/x.git"), None);
    }

    #[test]
    fn credentials_by_kind_and_never_shown() {
        let basic = secret(
            "b",
            SecretKind::Repository,
            &[("username", "bob"), ("password", "hunter2")],
        );
        let (creds, _) = basic.credentials().unwrap_or_default();
        assert!(matches!(creds, Credentials::Basic { .. }));
        assert!(!format!("{creds:?}").contains("hunter2"), "{creds:?}");
        let ssh = secret(
            "s",
            SecretKind::Repository,
            &[
                ("sshPrivateKey", "-----BEGIN KEY-----"),
                ("insecureIgnoreHostKey", "true"),
            ],
        );
        let (creds, transport) = ssh.credentials().unwrap_or_default();
        assert!(matches!(creds, Credentials::Ssh { .. }));
        assert!(transport.insecure_ignore_host_key);
        let bearer = secret("t", SecretKind::Repository, &[("bearerToken", "tok")]);
        assert!(matches!(bearer.credentials(), Ok((Credentials::Bearer { .. }, _))));
        let half = secret("h", SecretKind::Repository, &[("username", "bob")]);
        assert_eq!(half.credentials(), Err("Secret h: username without password".into()));
    }

    /// The controller and `kubectl sluice app diff` resolve through here: the chosen Secret's
    /// credentials and the known hosts (comments and blank lines dropped) for SSH, whichever reads.
    #[test]
    fn resolve_gives_credentials_and_known_hosts() {
        let url = "ssh://git@git.example/org/app.git";
        let secrets = vec![secret(
            "ssh",
            SecretKind::Repository,
            &[("url", url), ("sshPrivateKey", "KEY")],
        )];
        let hosts = "# Argo CD's defaults\ngit.example ssh-ed25519 AAAA\n\n";
        let access = resolve(url, &secrets, [hosts], false).unwrap();
        assert!(matches!(access.credentials, Credentials::Ssh { .. }));
        assert_eq!(
            access.transport.known_hosts,
            vec!["git.example ssh-ed25519 AAAA".to_owned()]
        );
        let anonymous = resolve("https://other.example/x.git", &secrets, [], true).unwrap();
        assert!(matches!(anonymous.credentials, Credentials::Anonymous));
        let broken = vec![secret(
            "half",
            SecretKind::Repository,
            &[("url", url), ("username", "u")],
        )];
        assert_eq!(
            resolve(url, &broken, [], false).map(|_| ()),
            Err("Secret half: username without password".to_owned())
        );
    }
}
