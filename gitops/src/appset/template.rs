//! Rendering an ApplicationSet's template for one parameter set (Argo's fasttemplate rendering in
//! `utils.RenderTemplateParams`): every `{{ key }}` of a known parameter, in every string and key
//! of the template, is replaced by its value; an unknown `{{ key }}` stays as written. The
//! rendered Application must be valid: its name a DNS-1123 subdomain, a destination and a source.

use crds::gitops::ApplicationSetTemplate;
use serde_json::{Map, Value, json};

use super::{GeneratorError, Params, names};

/// `text` with every `{{ key }}` of a known parameter replaced.
#[must_use]
pub fn substitute(text: &str, params: &Params) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start + 2..].find("}}") else { break };
        let key = rest[start + 2..start + 2 + len].trim();
        out.push_str(&rest[..start]);
        match params.get(key) {
            Some(value) => out.push_str(value),
            None => out.push_str(&rest[start..start + 4 + len]),
        }
        rest = &rest[start + 4 + len..];
    }
    out.push_str(rest);
    out
}

/// `value` with [`substitute`] applied to every string and key in it.
#[must_use]
pub fn substitute_json(value: &Value, params: &Params) -> Value {
    match value {
        Value::String(s) => Value::String(substitute(s, params)),
        Value::Array(items) => Value::Array(items.iter().map(|v| substitute_json(v, params)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (substitute(k, params), substitute_json(v, params)))
                .collect::<Map<String, Value>>(),
        ),
        other => other.clone(),
    }
}

/// Whether Sluice renders this kind of template: `goTemplate: true` is refused.
///
/// # Errors
/// `goTemplate: true` (not supported yet), naming the field.
pub fn supported(go_template: bool) -> Result<(), GeneratorError> {
    if go_template {
        return Err(GeneratorError::new(
            "spec.goTemplate",
            "Go templates are not supported yet; use the {{param}} syntax",
        ));
    }
    Ok(())
}

/// The Application `template` renders for `params`, in the ApplicationSet's `namespace`, as
/// JSON; `field` names the parameter set (`spec.generators[0].list.elements[1]`) for errors.
///
/// # Errors
/// `goTemplate: true` (not supported yet), or a rendered Application with an invalid name, no
/// destination or no source.
pub fn render(
    template: &ApplicationSetTemplate,
    params: &Params,
    go_template: bool,
    namespace: &str,
    field: &str,
) -> Result<Value, GeneratorError> {
    supported(go_template)?;
    let raw = serde_json::to_value(template).map_err(|e| GeneratorError::new("spec.template", e.to_string()))?;
    let mut rendered = substitute_json(&raw, params);
    let name = rendered
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !names::valid(name) {
        return Err(GeneratorError::new(
            format!("{field}: spec.template.metadata.name"),
            format!("{name:?} is not a valid Application name (lower-case letters, digits, '-' and '.')"),
        ));
    }
    let spec = &rendered["spec"];
    let destination = &spec["destination"];
    if destination["server"].as_str().unwrap_or_default().is_empty()
        && destination["name"].as_str().unwrap_or_default().is_empty()
    {
        return Err(GeneratorError::new(
            format!("{field}: spec.template.spec.destination"),
            "needs a server or a name",
        ));
    }
    if spec.get("source").is_none_or(Value::is_null) && spec["sources"].as_array().is_none_or(Vec::is_empty) {
        return Err(GeneratorError::new(
            format!("{field}: spec.template.spec.source"),
            "needs a source or sources",
        ));
    }
    let metadata = rendered["metadata"]
        .as_object_mut()
        .map(std::mem::take)
        .unwrap_or_default();
    let mut metadata = Value::Object(metadata);
    if metadata.get("namespace").is_none_or(Value::is_null) {
        metadata["namespace"] = Value::from(namespace);
    }
    Ok(json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": metadata,
        "spec": rendered["spec"].take(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_parameters_are_replaced_and_unknown_ones_kept() {
        let params = Params::from([("service".into(), "api".into()), ("path.basename".into(), "api".into())]);
        assert_eq!(
            substitute("apps/{{service}}/{{ path.basename }}", &params),
            "apps/api/api"
        );
        assert_eq!(substitute("{{nope}}-{{service}}", &params), "{{nope}}-api");
        assert_eq!(substitute("unclosed {{service", &params), "unclosed {{service");
    }
}
