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
pub mod git;
pub mod list;
pub mod names;
pub mod template;

use std::collections::BTreeMap;

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

/// What the generators read, read by the caller: the cluster Secrets and, per Git generator,
/// the revision's directories and files.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    /// Clusters from their Secrets.
    pub clusters: Vec<clusters::Cluster>,
    /// The directories of the revision a Git generator names (`/`-separated).
    pub directories: Vec<String>,
    /// The files of that revision, `(path, content)` (only those a files generator may match).
    pub files: Vec<(String, String)>,
}

/// The parameter sets of every generator of `spec`, each with the field that produced it.
///
/// # Errors
/// The first generator that fails, or one Sluice does not carry yet (matrix, merge, SCM
/// provider, pull request, cluster decision resource, plugin), named by field.
pub fn parameters(
    spec: &crds::gitops::ApplicationSetSpec,
    inputs: &Inputs,
) -> Result<Vec<(String, Params)>, GeneratorError> {
    let mut all = Vec::new();
    for (i, g) in spec.generators.iter().enumerate() {
        let field = format!("spec.generators[{i}]");
        let sets = if let Some(list) = &g.list {
            list::generate(list, &format!("{field}.list"))?
        } else if let Some(c) = &g.clusters {
            clusters::generate(c, &inputs.clusters, &format!("{field}.clusters"))?
        } else if let Some(git) = &g.git {
            let at = format!("{field}.git");
            let mut sets = git::directories(git, &inputs.directories, &at)?;
            sets.extend(git::files(git, &inputs.files, &at)?);
            sets
        } else {
            let name = [
                ("matrix", g.matrix.is_some()),
                ("merge", g.merge.is_some()),
                ("scmProvider", g.scm_provider.is_some()),
                ("pullRequest", g.pull_request.is_some()),
                ("clusterDecisionResource", g.cluster_decision_resource.is_some()),
                ("plugin", g.plugin.is_some()),
            ]
            .into_iter()
            .find_map(|(n, on)| on.then_some(n))
            .unwrap_or("(empty)");
            return Err(GeneratorError::new(format!("{field}.{name}"), "not supported yet"));
        };
        all.extend(sets.into_iter().enumerate().map(|(k, p)| (format!("{field}[{k}]"), p)));
    }
    Ok(all)
}
