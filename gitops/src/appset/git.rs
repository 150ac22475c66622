//! The `git` generator (Argo's `GitGenerator`), over what the controller read from the revision:
//! - `directories`: one parameter set per directory matching an included pattern and no
//!   `exclude: true` one (excludes win, whatever the order); directories starting with `.` are
//!   skipped. Patterns are `path.Match` globs: `*` stays within one directory. Parameters: `path`,
//!   `path[n]`, `path.basename`, `path.basenameNormalized`.
//! - `files`: one set per object in each matching JSON or YAML file (a list of objects gives one
//!   set each), flattened, with `path` (the file's directory), `path[n]`, `path.basename`,
//!   `path.basenameNormalized`, `path.filename`, `path.filenameNormalized`. Here `**` crosses
//!   directories.
//!
//! `pathParamPrefix` puts the path parameters under `<prefix>.path...`; `values` are templated
//! with each set's parameters.

use crds::gitops::GitGenerator;
use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use serde_json::Value;

use super::{GeneratorError, Params, flatten, names, template};

fn globs<'a>(
    patterns: impl Iterator<Item = (usize, &'a str, bool)>,
    field: &str,
    literal_separator: bool,
) -> Result<(GlobSet, GlobSet), GeneratorError> {
    let (mut include, mut exclude) = (GlobSetBuilder::new(), GlobSetBuilder::new());
    for (i, pattern, excluded) in patterns {
        let pattern = pattern.trim_start_matches('/');
        let glob: Glob = GlobBuilder::new(pattern)
            .literal_separator(literal_separator)
            .build()
            .map_err(|e| GeneratorError::new(format!("{field}[{i}].path"), e.to_string()))?;
        if excluded {
            exclude.add(glob);
        } else {
            include.add(glob);
        }
    }
    let built = |b: GlobSetBuilder| b.build().map_err(|e| GeneratorError::new(field, e.to_string()));
    Ok((built(include)?, built(exclude)?))
}

/// The path parameters of a directory (`dir`) and, for files, the file name.
fn path_params(generator: &GitGenerator, dir: &str, file: Option<&str>, params: &mut Params) {
    let prefix = generator
        .path_param_prefix
        .as_deref()
        .filter(|p| !p.is_empty())
        .map_or_else(|| "path".to_owned(), |p| format!("{p}.path"));
    let basename = dir.rsplit('/').next().unwrap_or_default();
    params.insert(prefix.clone(), dir.to_owned());
    params.insert(format!("{prefix}.basename"), basename.to_owned());
    params.insert(format!("{prefix}.basenameNormalized"), names::normalized(basename));
    for (i, segment) in dir.split('/').filter(|s| !s.is_empty()).enumerate() {
        params.insert(format!("{prefix}[{i}]"), segment.to_owned());
    }
    if let Some(file) = file {
        params.insert(format!("{prefix}.filename"), file.to_owned());
        params.insert(format!("{prefix}.filenameNormalized"), names::normalized(file));
    }
}

fn with_values(generator: &GitGenerator, mut params: Params) -> Params {
    let values: Vec<(String, String)> = generator
        .values
        .iter()
        .map(|(k, v)| (format!("values.{k}"), template::substitute(v, &params)))
        .collect();
    params.extend(values);
    params
}

/// The parameter sets of the `directories` of `generator` over the revision's directories
/// (`/`-separated, relative to the repository root).
///
/// # Errors
/// A pattern that is not a glob.
pub fn directories(generator: &GitGenerator, dirs: &[String], field: &str) -> Result<Vec<Params>, GeneratorError> {
    let field = format!("{field}.directories");
    let patterns = generator
        .directories
        .iter()
        .enumerate()
        .map(|(i, d)| (i, d.path.as_str(), d.exclude == Some(true)));
    let (include, exclude) = globs(patterns, &field, true)?;
    let mut found: Vec<&String> = dirs
        .iter()
        .filter(|d| !d.split('/').any(|s| s.starts_with('.')))
        .filter(|d| include.is_match(d.as_str()) && !exclude.is_match(d.as_str()))
        .collect();
    found.sort();
    found.dedup();
    Ok(found
        .into_iter()
        .map(|dir| {
            let mut params = Params::new();
            path_params(generator, dir, None, &mut params);
            with_values(generator, params)
        })
        .collect())
}

/// The parameter sets of the `files` of `generator` over the revision's files as
/// `(path, content)`.
///
/// # Errors
/// A pattern that is not a glob, or a matching file that is not a JSON/YAML object or list of
/// objects (named with the file).
pub fn files(generator: &GitGenerator, files: &[(String, String)], field: &str) -> Result<Vec<Params>, GeneratorError> {
    let field = format!("{field}.files");
    let patterns = generator
        .files
        .iter()
        .enumerate()
        .map(|(i, f)| (i, f.path.as_str(), f.exclude == Some(true)));
    let (include, exclude) = globs(patterns, &field, true)?;
    let mut matching: Vec<&(String, String)> = files
        .iter()
        .filter(|(p, _)| include.is_match(p.as_str()) && !exclude.is_match(p.as_str()))
        .collect();
    matching.sort_by(|a, b| a.0.cmp(&b.0));
    let mut sets = Vec::new();
    for (path, content) in matching {
        let parsed: Value = crds::yaml::from_str(content)
            .map_err(|e| GeneratorError::new(&field, format!("{path} does not parse: {e}")))?;
        let objects = match parsed {
            Value::Array(items) => items,
            other => vec![other],
        };
        let (dir, file) = path.rsplit_once('/').unwrap_or(("", path.as_str()));
        for object in objects {
            if !object.is_object() {
                return Err(GeneratorError::new(
                    &field,
                    format!("{path} must hold an object or a list of objects"),
                ));
            }
            let mut params = Params::new();
            flatten("", &object, &mut params);
            path_params(generator, dir, Some(file), &mut params);
            sets.push(with_values(generator, params));
        }
    }
    Ok(sets)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::json;

    fn generator(spec: serde_json::Value) -> GitGenerator {
        serde_json::from_value(spec).unwrap()
    }

    #[test]
    fn directories_match_one_level_and_excludes_win() {
        let g = generator(json!({"repoURL": "r", "directories": [
            {"path": "apps/*"}, {"path": "apps/legacy_*", "exclude": true}], "values": {"ns": "team-{{path.basename}}"}}));
        let dirs: Vec<String> = [
            "apps",
            "apps/api",
            "apps/worker_2",
            "apps/legacy_billing",
            "apps/api/base",
            "apps/.cache",
            "docs",
        ]
        .map(str::to_owned)
        .to_vec();
        let sets = directories(&g, &dirs, "spec.generators[0].git").unwrap();
        let paths: Vec<&str> = sets.iter().map(|p| p["path"].as_str()).collect();
        assert_eq!(paths, ["apps/api", "apps/worker_2"]);
        assert_eq!(sets[1]["path.basename"], "worker_2");
        assert_eq!(sets[1]["path.basenameNormalized"], "worker-2");
        assert_eq!(
            (sets[1]["path[0]"].as_str(), sets[1]["path[1]"].as_str()),
            ("apps", "worker_2")
        );
        assert_eq!(sets[0]["values.ns"], "team-api");
    }

    #[test]
    fn files_are_flattened_with_their_paths() {
        let g = generator(
            json!({"repoURL": "r", "files": [{"path": "cluster-config/**/config.json"}], "pathParamPrefix": "cfg"}),
        );
        let files = vec![
            (
                "cluster-config/engineering/dev/config.json".to_owned(),
                r#"{"aws_account": "123456", "cluster": {"name": "engineering-dev", "address": "https://1.2.3.4"}}"#
                    .to_owned(),
            ),
            ("cluster-config/README.md".to_owned(), "# not matched".to_owned()),
        ];
        let sets = super::files(&g, &files, "spec.generators[0].git").unwrap();
        assert_eq!(sets.len(), 1);
        assert_eq!(sets[0]["cluster.name"], "engineering-dev");
        assert_eq!(sets[0]["cfg.path"], "cluster-config/engineering/dev");
        assert_eq!(sets[0]["cfg.path.basename"], "dev");
        assert_eq!(sets[0]["cfg.path.filename"], "config.json");
        assert_eq!(sets[0]["cfg.path[2]"], "dev");
        let bad = vec![("cluster-config/x/config.json".to_owned(), "[1, 2]".to_owned())];
        assert!(
            super::files(&g, &bad, "g")
                .unwrap_err()
                .to_string()
                .contains("must hold an object")
        );
    }
}
