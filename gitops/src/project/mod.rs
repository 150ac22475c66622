//! What an AppProject allows an Application (Argo CD's `AppProject.IsSourcePermitted`,
//! `IsDestinationPermitted` and `IsGroupKindPermitted`), with Argo CD's messages: its source
//! repositories, its destinations, and the kinds of resources it may create, cluster-wide and in
//! namespaces. The `default` project allows everything.

mod glob;

use crds::gitops::{AppProjectSpec, GroupKind, ProjectDestination};

pub use glob::{holds, is_deny, matches};

/// The project every Application belongs to unless it names another; created when absent.
#[must_use]
pub fn default_project() -> AppProjectSpec {
    AppProjectSpec {
        source_repos: vec!["*".into()],
        destinations: vec![ProjectDestination {
            server: Some("*".into()),
            name: Some("*".into()),
            namespace: Some("*".into()),
        }],
        cluster_resource_whitelist: vec![GroupKind {
            group: "*".into(),
            kind: "*".into(),
        }],
        ..AppProjectSpec::default()
    }
}

/// A repository URL as Argo CD compares them (`git.NormalizeGitURL`): trimmed, lower case, `scp`-
/// style SSH as `ssh://`, without `.git` and without a trailing `/`.
#[must_use]
pub fn normalize_repo(url: &str) -> String {
    let mut repo = url.trim().to_lowercase();
    if !repo.contains("://")
        && let Some((user_host, path)) = repo.split_once(':')
        && user_host.contains('@')
    {
        repo = format!("ssh://{user_host}/{}", path.trim_start_matches('/'));
    }
    let repo = repo.trim_end_matches('/');
    repo.strip_suffix(".git").unwrap_or(repo).to_owned()
}

/// Whether the project lets an Application use `repo`.
#[must_use]
pub fn source_permitted(project: &AppProjectSpec, repo: &str) -> bool {
    let repo = normalize_repo(repo);
    let mut any = false;
    for pattern in &project.source_repos {
        let normalized = match pattern.strip_prefix('!') {
            Some(denied) => format!("!{}", normalize_repo(denied)),
            None => normalize_repo(pattern),
        };
        if holds(&normalized, &repo) {
            any = true;
        } else if is_deny(&normalized) {
            return false;
        }
    }
    any
}

/// Where an Application deploys: a cluster (by server URL and/or name) and a namespace.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Destination<'a> {
    /// The cluster's API server URL.
    pub server: &'a str,
    /// The cluster's name.
    pub name: &'a str,
    /// The namespace.
    pub namespace: &'a str,
}

/// Whether the project lets an Application deploy to `destination`: one allowed destination
/// matches and no denied one does.
#[must_use]
pub fn destination_permitted(project: &AppProjectSpec, destination: &Destination<'_>) -> bool {
    let mut any = false;
    let mut none_denied = true;
    for allowed in &project.destinations {
        let (name, server, namespace) = (
            allowed.name.as_deref().unwrap_or_default(),
            allowed.server.as_deref().unwrap_or_default(),
            allowed.namespace.as_deref().unwrap_or_default(),
        );
        let name_ok = !destination.name.is_empty() && holds(name, destination.name);
        let server_ok = !destination.server.is_empty() && holds(server, destination.server);
        let namespace_ok = holds(namespace, destination.namespace);
        if (server_ok || name_ok) && namespace_ok {
            any = true;
        } else if (!name_ok && is_deny(name))
            || (!server_ok && is_deny(server))
            || (!namespace_ok && is_deny(namespace))
        {
            none_denied = false;
        }
    }
    any && none_denied
}

fn listed(list: &[GroupKind], group: &str, kind: &str) -> bool {
    list.iter()
        .any(|item| matches(&item.kind, kind, true) && matches(&item.group, group, true))
}

/// Whether the project lets an Application manage objects of `group`/`kind`. Namespaced kinds are
/// allowed unless blacklisted (or missing from a whitelist that lists some); cluster-scoped kinds
/// only when whitelisted and not blacklisted.
#[must_use]
pub fn kind_permitted(project: &AppProjectSpec, group: &str, kind: &str, namespaced: bool) -> bool {
    let (white, black) = if namespaced {
        (
            &project.namespace_resource_whitelist,
            &project.namespace_resource_blacklist,
        )
    } else {
        (&project.cluster_resource_whitelist, &project.cluster_resource_blacklist)
    };
    let whitelisted = if namespaced && white.is_empty() {
        true
    } else {
        listed(white, group, kind)
    };
    whitelisted && !listed(black, group, kind)
}

/// A rule of the project that an Application breaks, as Argo CD words it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    /// The repository is not among `sourceRepos`.
    Source {
        /// The repository.
        repo: String,
    },
    /// The destination matches no allowed destination (or a denied one).
    Destination {
        /// The server.
        server: String,
        /// The namespace.
        namespace: String,
    },
    /// A resource kind is not permitted.
    Kind {
        /// API group.
        group: String,
        /// Kind.
        kind: String,
    },
}

impl Violation {
    /// The message of the `InvalidSpecError` condition, naming the rule.
    #[must_use]
    pub fn message(&self, project: &str) -> String {
        match self {
            Self::Source { repo } => {
                format!("application repo {repo} is not permitted in project '{project}' (spec.sourceRepos)")
            }
            Self::Destination { server, namespace } => format!(
                "application destination server '{server}' and namespace '{namespace}' do not match any of the allowed destinations in project '{project}' (spec.destinations)"
            ),
            Self::Kind { group, kind } => {
                format!(
                    "resource {group}:{kind} is not permitted in project {project} (spec.*ResourceWhitelist/Blacklist)"
                )
            }
        }
    }
}

#[cfg(test)]
mod tests;
