//! ApplicationSet generators and templates, pure (Argo CD's `applicationset/generators` and
//! `applicationset/utils`): each generator turns what it reads (its own elements, the cluster
//! Secrets, the directories and files of a Git revision) into parameter sets, and the template
//! renders one Application per set. What a generator reads is passed in, so everything here is
//! tested on data alone; the controller does the reading.
//!
//! Parameters are Argo's flat form for the `{{param}}` (fasttemplate) syntax: nested values become
//! dotted keys (`cluster.name`), lists `key[n]`. `goTemplate: true` is refused by
//! [`template::render`] with a clear error until Sluice carries Go-template semantics.

pub mod clusters;
pub mod combine;
pub mod git;
pub mod list;
pub mod names;
pub mod policy;
pub mod template;

use std::collections::BTreeMap;

use crds::gitops::ApplicationSetGenerator;

/// One parameter set: flat `{{key}}` names to their values.
pub type Params = BTreeMap<String, String>;

/// A generator that could not produce its parameters, naming the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct GeneratorError {
    /// The field, e.g. `spec.generators[0].list.elements[2]`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl GeneratorError {
    /// An error about `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Flattens a JSON value into `params` under `prefix` (Argo's `flattenParameters`): objects to
/// `prefix.key`, lists to `prefix[n]`, scalars to their text.
pub fn flatten(prefix: &str, value: &serde_json::Value, params: &mut Params) {
    use serde_json::Value;
    let join = |key: &str| {
        if prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{prefix}.{key}")
        }
    };
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                flatten(&join(k), v, params);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), v, params);
            }
        }
        Value::String(s) => {
            params.insert(prefix.to_owned(), s.clone());
        }
        Value::Null => {
            params.insert(prefix.to_owned(), String::new());
        }
        other => {
            params.insert(prefix.to_owned(), other.to_string());
        }
    }
}

/// One revision of a repository as a Git generator reads it: its directories and the files
/// the `files` patterns may match, with their content.
#[derive(Clone, Debug, Default)]
pub struct Revision {
    /// Every directory of the revision (`/`-separated, from the root).
    pub directories: Vec<String>,
    /// `(path, content)` of the files some `files` pattern may match.
    pub files: Vec<(String, String)>,
}

/// What the generators read, read by the caller: the cluster Secrets and, per repository and
/// revision a Git generator names, that revision ([`git_reads`] says which).
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    /// Clusters from their Secrets.
    pub clusters: Vec<clusters::Cluster>,
    /// Revisions by `(repoURL, revision)` as written in the generator, or why one could not be
    /// read.
    pub revisions: BTreeMap<(String, String), Result<Revision, String>>,
}

/// A revision a Git generator reads: the repository, the revision as written (`HEAD` when
/// empty), and the `files` patterns whose files it needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GitRead {
    /// `repoURL`.
    pub repo_url: String,
    /// `revision`.
    pub revision: String,
    /// The `files` patterns (their content is needed), excludes included.
    pub file_patterns: Vec<String>,
}

/// The revisions the Git generators of `generators` read, nested ones included (a matrix's
/// second generator templated by the first reads what its template says once rendered: not
/// known here, so only literal URLs are listed).
#[must_use]
pub fn git_reads(generators: &[ApplicationSetGenerator]) -> Vec<GitRead> {
    let mut reads: Vec<GitRead> = Vec::new();
    for g in generators {
        if let Some(git) = &g.git {
            let revision = revision_of(git);
            let at = match reads
                .iter()
                .position(|r| r.repo_url == git.repo_url && r.revision == revision)
            {
                Some(at) => at,
                None => {
                    reads.push(GitRead {
                        repo_url: git.repo_url.clone(),
                        revision,
                        file_patterns: Vec::new(),
                    });
                    reads.len() - 1
                }
            };
            reads[at].file_patterns.extend(git.files.iter().map(|f| f.path.clone()));
        }
        for read in git_reads(&combine::children(g)) {
            match reads
                .iter_mut()
                .find(|r| r.repo_url == read.repo_url && r.revision == read.revision)
            {
                Some(have) => have.file_patterns.extend(read.file_patterns),
                None => reads.push(read),
            }
        }
    }
    reads
}

fn revision_of(git: &crds::gitops::GitGenerator) -> String {
    git.revision
        .clone()
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "HEAD".into())
}

/// The parameter sets of one generator; `field` names it (`spec.generators[0]`).
///
/// # Errors
/// The generator cannot produce its parameters, or is one Sluice does not carry yet (SCM
/// provider, pull request, cluster decision resource, plugin), named by field.
pub fn generate(g: &ApplicationSetGenerator, inputs: &Inputs, field: &str) -> Result<Vec<Params>, GeneratorError> {
    if let Some(list) = &g.list {
        list::generate(list, &format!("{field}.list"))
    } else if let Some(c) = &g.clusters {
        clusters::generate(c, &inputs.clusters, &format!("{field}.clusters"))
    } else if let Some(git) = &g.git {
        let at = format!("{field}.git");
        let key = (git.repo_url.clone(), revision_of(git));
        let revision = match inputs.revisions.get(&key) {
            Some(Ok(revision)) => revision,
            Some(Err(message)) => return Err(GeneratorError::new(format!("{at}.repoURL"), message.clone())),
            None => {
                return Err(GeneratorError::new(
                    format!("{at}.repoURL"),
                    format!("revision {} of {} was not read", key.1, key.0),
                ));
            }
        };
        let mut sets = git::directories(git, &revision.directories, &at)?;
        sets.extend(git::files(git, &revision.files, &at)?);
        Ok(sets)
    } else if let Some(matrix) = &g.matrix {
        combine::matrix(matrix, inputs, &format!("{field}.matrix"))
    } else if let Some(merge) = &g.merge {
        combine::merge(merge, inputs, &format!("{field}.merge"))
    } else {
        let name = g.kinds().first().copied();
        match name {
            Some(name) => Err(GeneratorError::new(format!("{field}.{name}"), "not supported yet")),
            None => Err(GeneratorError::new(field, "names no generator")),
        }
    }
}

/// The parameter sets of every generator of `spec`, each with the field that produced it.
///
/// # Errors
/// The first generator that fails, named by field.
pub fn parameters(
    spec: &crds::gitops::ApplicationSetSpec,
    inputs: &Inputs,
) -> Result<Vec<(String, Params)>, GeneratorError> {
    let mut all = Vec::new();
    for (i, g) in spec.generators.iter().enumerate() {
        let field = format!("spec.generators[{i}]");
        let sets = generate(g, inputs, &field)?;
        all.extend(sets.into_iter().enumerate().map(|(k, p)| (format!("{field}[{k}]"), p)));
    }
    Ok(all)
}
