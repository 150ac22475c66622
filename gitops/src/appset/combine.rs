//! The generators that combine two others (Argo's `MatrixGenerator` and `MergeGenerator`):
//! - `matrix`: every parameter set of the first generator with every set of the second; the
//!   second is templated with each set of the first (a Git generator can read a path the first
//!   found); a key both give with different values is an error.
//! - `merge`: the sets of the first generator, each overridden by the set of a later generator
//!   that has the same values for every `mergeKeys` key; sets of later generators that match no
//!   base set are dropped; two sets of one generator with the same merge key values are an error.

use crds::gitops::ApplicationSetGenerator;
use serde_json::Value;

use super::{GeneratorError, Inputs, Params, generate, template};

/// The child generators of a `matrix` or `merge` (empty for any other generator, or when they do
/// not parse: [`matrix`] and [`merge`] report that).
#[must_use]
pub fn children(g: &ApplicationSetGenerator) -> Vec<ApplicationSetGenerator> {
    g.matrix
        .iter()
        .chain(&g.merge)
        .filter_map(|v| v.get("generators"))
        .filter_map(|v| serde_json::from_value::<Vec<ApplicationSetGenerator>>(v.clone()).ok())
        .flatten()
        .collect()
}

fn parsed(spec: &Value, field: &str) -> Result<Vec<(Value, String)>, GeneratorError> {
    let Some(Value::Array(items)) = spec.get("generators") else {
        return Err(GeneratorError::new(
            format!("{field}.generators"),
            "must be a list of generators",
        ));
    };
    Ok(items
        .iter()
        .enumerate()
        .map(|(i, g)| (g.clone(), format!("{field}.generators[{i}]")))
        .collect())
}

fn child(raw: &Value, field: &str) -> Result<ApplicationSetGenerator, GeneratorError> {
    serde_json::from_value(raw.clone()).map_err(|e| GeneratorError::new(field, e.to_string()))
}

/// The parameter sets of a `matrix` generator (`spec` as written); `field` names it.
///
/// # Errors
/// Not exactly two child generators, a child that fails, or conflicting values of one key.
pub fn matrix(spec: &Value, inputs: &Inputs, field: &str) -> Result<Vec<Params>, GeneratorError> {
    let generators = parsed(spec, field)?;
    let [(first, first_at), (second, second_at)] = generators.as_slice() else {
        return Err(GeneratorError::new(
            format!("{field}.generators"),
            format!("a matrix combines exactly two generators, not {}", generators.len()),
        ));
    };
    let mut sets = Vec::new();
    for left in generate(&child(first, first_at)?, inputs, first_at)? {
        let templated = template::substitute_json(second, &left);
        for right in generate(&child(&templated, second_at)?, inputs, second_at)? {
            let mut combined = left.clone();
            for (key, value) in right {
                match combined.get(&key) {
                    Some(have) if *have != value => {
                        return Err(GeneratorError::new(
                            field,
                            format!("both generators give {key:?}, as {have:?} and {value:?}"),
                        ));
                    }
                    _ => {
                        combined.insert(key, value);
                    }
                }
            }
            sets.push(combined);
        }
    }
    Ok(sets)
}

/// The parameter sets of a `merge` generator (`spec` as written); `field` names it.
///
/// # Errors
/// No `mergeKeys`, no generator, a child that fails, or two sets of one generator with the same
/// merge key values.
pub fn merge(spec: &Value, inputs: &Inputs, field: &str) -> Result<Vec<Params>, GeneratorError> {
    let keys: Vec<String> = spec
        .get("mergeKeys")
        .and_then(|k| serde_json::from_value(k.clone()).ok())
        .unwrap_or_default();
    if keys.is_empty() {
        return Err(GeneratorError::new(
            format!("{field}.mergeKeys"),
            "needs at least one key",
        ));
    }
    let generators = parsed(spec, field)?;
    let Some(((base, base_at), others)) = generators.split_first() else {
        return Err(GeneratorError::new(
            format!("{field}.generators"),
            "needs at least one generator",
        ));
    };
    let key_of = |p: &Params| -> Option<Vec<String>> { keys.iter().map(|k| p.get(k).cloned()).collect() };
    let mut sets = generate(&child(base, base_at)?, inputs, base_at)?;
    unique(&sets, &key_of, base_at)?;
    for (raw, at) in others {
        let overrides = generate(&child(raw, at)?, inputs, at)?;
        unique(&overrides, &key_of, at)?;
        for set in &mut sets {
            let Some(key) = key_of(set) else { continue };
            if let Some(found) = overrides.iter().find(|o| key_of(o).as_ref() == Some(&key)) {
                set.extend(found.clone());
            }
        }
    }
    Ok(sets)
}

fn unique(
    sets: &[Params],
    key_of: &impl Fn(&Params) -> Option<Vec<String>>,
    field: &str,
) -> Result<(), GeneratorError> {
    let mut seen = std::collections::BTreeSet::new();
    for key in sets.iter().filter_map(key_of) {
        if !seen.insert(key.clone()) {
            return Err(GeneratorError::new(
                field,
                format!("two parameter sets have the same merge keys {key:?}"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::appset::{Revision, clusters::Cluster};
    use serde_json::json;

    fn inputs() -> Inputs {
        let cluster = |name: &str, env: &str| Cluster {
            name: name.into(),
            server: format!("https://{name}.example"),
            labels: [("env".to_owned(), env.to_owned())].into(),
            ..Cluster::default()
        };
        Inputs {
            clusters: vec![cluster("prod", "production"), cluster("stage", "staging")],
            revisions: [(
                ("https://git.example/apps".to_owned(), "HEAD".to_owned()),
                Ok(Revision {
                    directories: vec!["apps".into(), "apps/api".into(), "apps/web".into()],
                    files: Vec::new(),
                }),
            )]
            .into(),
        }
    }

    #[test]
    fn a_matrix_crosses_directories_with_clusters_and_templates_the_second() {
        // Argo's documented example: git directories x clusters.
        let spec = json!({"generators": [
            {"git": {"repoURL": "https://git.example/apps", "directories": [{"path": "apps/*"}]}},
            {"clusters": {"selector": {"matchLabels": {"env": "production"}}, "values": {"app": "{{path.basename}}"}}}
        ]});
        let sets = matrix(&spec, &inputs(), "spec.generators[0].matrix").unwrap();
        let pairs: Vec<(&str, &str, &str)> = sets
            .iter()
            .map(|p| {
                (
                    p["path.basename"].as_str(),
                    p["name"].as_str(),
                    p["values.app"].as_str(),
                )
            })
            .collect();
        assert_eq!(pairs, [("api", "prod", "api"), ("web", "prod", "web")]);
        let one = json!({"generators": [{"list": {"elements": [{"a": "1"}]}}]});
        assert!(
            matrix(&one, &inputs(), "m")
                .unwrap_err()
                .to_string()
                .contains("exactly two")
        );
        let clash = json!({"generators": [
            {"list": {"elements": [{"name": "x"}]}}, {"clusters": {}}]});
        assert!(
            matrix(&clash, &inputs(), "m")
                .unwrap_err()
                .to_string()
                .contains("both generators give \"name\"")
        );
    }

    #[test]
    fn a_merge_overrides_the_base_by_key_and_drops_unmatched_sets() {
        let spec = json!({"mergeKeys": ["name"], "generators": [
            {"clusters": {"values": {"replicas": "1"}}},
            {"list": {"elements": [{"name": "prod", "values.replicas": "3"}, {"name": "elsewhere", "values.replicas": "9"}]}}
        ]});
        let sets = merge(&spec, &inputs(), "spec.generators[0].merge").unwrap();
        let replicas: Vec<(&str, &str)> = sets
            .iter()
            .map(|p| (p["name"].as_str(), p["values.replicas"].as_str()))
            .collect();
        assert_eq!(replicas, [("in-cluster", "1"), ("prod", "3"), ("stage", "1")]);
        let duplicate = json!({"mergeKeys": ["a"], "generators": [{"list": {"elements": [{"a": "1"}, {"a": "1"}]}}]});
        assert!(
            merge(&duplicate, &inputs(), "m")
                .unwrap_err()
                .to_string()
                .contains("same merge keys")
        );
        let no_keys = json!({"generators": []});
        assert_eq!(merge(&no_keys, &inputs(), "m").unwrap_err().field, "m.mergeKeys");
    }
}
