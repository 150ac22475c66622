//! The `list` generator (Argo's `ListGenerator`): one parameter set per element of `elements`
//! and of `elementsYaml` (a YAML or JSON list in a string), each an object flattened to `{{key}}`
//! parameters (`values.x` for a nested `values`).

use crds::gitops::ListGenerator;
use serde_json::Value;

use super::{GeneratorError, Params, flatten};

/// The parameter sets of `list`; `field` names it (`spec.generators[0].list`).
///
/// # Errors
/// An element that is not an object, or an `elementsYaml` that is not a list.
pub fn generate(list: &ListGenerator, field: &str) -> Result<Vec<Params>, GeneratorError> {
    let mut elements: Vec<(String, Value)> = list
        .elements
        .iter()
        .enumerate()
        .map(|(i, e)| (format!("{field}.elements[{i}]"), e.clone()))
        .collect();
    if let Some(text) = list.elements_yaml.as_deref().filter(|t| !t.trim().is_empty()) {
        let parsed: Value = crds::yaml::from_str(text)
            .map_err(|e| GeneratorError::new(format!("{field}.elementsYaml"), format!("does not parse: {e}")))?;
        let Value::Array(items) = parsed else {
            return Err(GeneratorError::new(format!("{field}.elementsYaml"), "must be a list"));
        };
        elements.extend(
            items
                .into_iter()
                .enumerate()
                .map(|(i, e)| (format!("{field}.elementsYaml[{i}]"), e)),
        );
    }
    elements
        .into_iter()
        .map(|(at, element)| {
            if !element.is_object() {
                return Err(GeneratorError::new(at, "must be an object of parameters"));
            }
            let mut params = Params::new();
            flatten("", &element, &mut params);
            Ok(params)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::json;

    #[test]
    fn elements_and_elements_yaml_each_give_a_set() {
        let list: ListGenerator = serde_json::from_value(json!({
            "elements": [{"service": "api", "values": {"replicas": 3}}],
            "elementsYaml": "- service: worker\n  namespace: jobs\n"
        }))
        .unwrap();
        let sets = generate(&list, "spec.generators[0].list").unwrap();
        assert_eq!(sets.len(), 2);
        assert_eq!(sets[0]["service"], "api");
        assert_eq!(sets[0]["values.replicas"], "3");
        assert_eq!(
            (sets[1]["service"].as_str(), sets[1]["namespace"].as_str()),
            ("worker", "jobs")
        );
        let bad: ListGenerator = serde_json::from_value(json!({"elements": ["api"]})).unwrap();
        assert_eq!(
            generate(&bad, "spec.generators[0].list").unwrap_err().to_string(),
            "spec.generators[0].list.elements[0]: must be an object of parameters"
        );
    }
}
