//! Talking to a remote: libgit2 callbacks built from [`Credentials`] and the cheap change check,
//! `ls-remote` (the advertised references, no objects transferred).

use std::collections::BTreeMap;

use git2::{CertificateCheckStatus, Cred, CredentialType, Direction, FetchOptions, RemoteCallbacks};

use crate::credentials::{Credentials, Transport};
use crate::error::{self, GitError};

/// How to reach one repository.
#[derive(Clone, Debug, Default)]
pub struct Access {
    /// Credentials.
    pub credentials: Credentials,
    /// TLS and SSH host-key settings.
    pub transport: Transport,
}

/// References a remote advertises: full name (`HEAD`, `refs/heads/main`, `refs/tags/v1`,
/// `refs/tags/v1^{}` for the commit of an annotated tag) to commit id.
pub type Refs = BTreeMap<String, String>;

/// Callbacks answering libgit2's questions with `access`: credentials once (libgit2 asks again
/// after a refusal, which would loop), and the TLS or host-key check.
pub(crate) fn callbacks(access: &Access) -> RemoteCallbacks<'_> {
    let mut callbacks = RemoteCallbacks::new();
    let mut asked = false;
    callbacks.credentials(move |_url, username_from_url, allowed| {
        if asked {
            return Err(git2::Error::from_str("authentication failed"));
        }
        asked = true;
        match &access.credentials {
            Credentials::Basic { username, password } if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) => {
                Cred::userpass_plaintext(username, password.expose())
            }
            Credentials::Ssh { username, private_key } if allowed.contains(CredentialType::SSH_KEY) => {
                let user = username.as_deref().or(username_from_url).unwrap_or("git");
                Cred::ssh_key_from_memory(user, None, private_key.expose(), None)
            }
            _ if allowed.contains(CredentialType::USERNAME) => Cred::username(username_from_url.unwrap_or("git")),
            _ => Err(git2::Error::from_str(
                "authentication required but no credentials are configured",
            )),
        }
    });
    let transport = access.transport.clone();
    callbacks.certificate_check(move |cert, host| {
        if let Some(hostkey) = cert.as_hostkey() {
            if transport.insecure_ignore_host_key {
                return Ok(CertificateCheckStatus::CertificateOk);
            }
            if transport.known_hosts.is_empty() {
                return Ok(CertificateCheckStatus::CertificatePassthrough);
            }
            let key = hostkey.hostkey().unwrap_or_default();
            return if known(&transport.known_hosts, host, key) {
                Ok(CertificateCheckStatus::CertificateOk)
            } else {
                Err(git2::Error::from_str(&format!(
                    "the SSH host key of {host} is not among the known hosts"
                )))
            };
        }
        Ok(if transport.insecure {
            CertificateCheckStatus::CertificateOk
        } else {
            CertificateCheckStatus::CertificatePassthrough
        })
    });
    callbacks
}

/// Whether `known_hosts` lines list `key` (raw, as the server sent it) for `host` (also as
/// `[host]:port`, the form for a port other than 22).
fn known(lines: &[String], host: &str, key: &[u8]) -> bool {
    use base64::Engine as _;
    lines.iter().any(|line| {
        let mut parts = line.split_whitespace();
        let (Some(hosts), Some(_type), Some(encoded)) = (parts.next(), parts.next(), parts.next()) else {
            return false;
        };
        let host_matches = hosts.split(',').any(|h| {
            h == host
                || h.strip_prefix('[')
                    .and_then(|r| r.split_once("]:"))
                    .is_some_and(|(name, _)| name == host)
        });
        host_matches
            && base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .is_ok_and(|k| k == key)
    })
}

/// Fetch options with `access`'s callbacks and, for a bearer token, its header.
pub(crate) fn fetch_options(access: &Access) -> FetchOptions<'_> {
    let mut options = FetchOptions::new();
    options.remote_callbacks(callbacks(access));
    if let Credentials::Bearer { token } = &access.credentials {
        // RepoSecret::credentials refused tokens with line breaks or NULs.
        let header = format!("Authorization: Bearer {}", token.expose());
        options.custom_headers(&[header.as_str()]);
    }
    options.download_tags(git2::AutotagOption::All);
    options
}

/// The references `url` advertises, without fetching objects (`git ls-remote`). A bearer token
/// cannot be sent on this path (libgit2's connect takes no headers); such repositories are checked
/// by fetching instead, which the caller does when this returns `None`.
pub fn ls_remote(url: &str, access: &Access) -> Result<Option<Refs>, GitError> {
    if matches!(access.credentials, Credentials::Bearer { .. }) {
        return Ok(None);
    }
    let mut remote = git2::Remote::create_detached(url).map_err(|e| error::remote(url, &e))?;
    let connection = remote
        .connect_auth(Direction::Fetch, Some(callbacks(access)), None)
        .map_err(|e| error::remote(url, &e))?;
    let heads = connection.list().map_err(|e| error::remote(url, &e))?;
    Ok(Some(
        heads
            .iter()
            .map(|h| (h.name().to_owned(), h.oid().to_string()))
            .collect(),
    ))
}
