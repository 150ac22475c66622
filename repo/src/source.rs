//! An Application's `spec.source` as render options: the one mapping the controller and
//! `kubectl sluice app diff` share, so both render a source the same way.

use std::time::Duration;

use crds::gitops::ApplicationSource;
use serde_json::Value;

use crate::render::{DirectoryOptions, HelmOptions, HelmParameter, KustomizeOptions, RenderOptions};

/// The render options `source` asks for, for the destination `namespace`.
#[must_use]
pub fn render_options(source: &ApplicationSource, namespace: &str, timeout: Duration) -> RenderOptions {
    let directory = source
        .directory
        .as_ref()
        .map_or_else(DirectoryOptions::default, |d| DirectoryOptions {
            recurse: d.recurse.unwrap_or(false),
            include: d.include.clone(),
            exclude: d.exclude.clone(),
        });
    let kustomize = source
        .kustomize
        .as_ref()
        .map_or_else(KustomizeOptions::default, |k| KustomizeOptions {
            images: k.images.clone(),
            name_prefix: k.name_prefix.clone(),
            name_suffix: k.name_suffix.clone(),
            common_labels: k.common_labels.clone(),
            common_annotations: k.common_annotations.clone(),
            namespace: k.namespace.clone(),
        });
    let helm = source.helm.as_ref().map_or_else(HelmOptions::default, |h| HelmOptions {
        release_name: h.release_name.clone(),
        value_files: h.value_files.clone(),
        // JSON is YAML: `valuesObject` is handed to Helm as it is.
        values: h
            .values
            .clone()
            .or_else(|| h.values_object.as_ref().and_then(|v| serde_json::to_string(v).ok())),
        parameters: h.parameters.iter().filter_map(helm_parameter).collect(),
        skip_crds: h.skip_crds.unwrap_or(false),
        ignore_missing_value_files: h.ignore_missing_value_files.unwrap_or(false),
    });
    RenderOptions {
        directory,
        kustomize,
        helm,
        namespace: namespace.to_owned(),
        timeout,
        helm_binary: None,
    }
}

fn helm_parameter(p: &Value) -> Option<HelmParameter> {
    Some(HelmParameter {
        name: p.get("name")?.as_str()?.to_owned(),
        value: p.get("value").and_then(Value::as_str).unwrap_or_default().to_owned(),
        force_string: p.get("forceString").and_then(Value::as_bool).unwrap_or(false),
    })
}

#[cfg(test)]
mod tests {
    use crds::gitops::{HelmSource, KustomizeSource};
    use serde_json::json;

    use super::*;

    #[test]
    fn every_option_is_carried() {
        let source = ApplicationSource {
            repo_url: "x".into(),
            kustomize: Some(KustomizeSource {
                images: vec!["a=b:1".into()],
                name_prefix: Some("p-".into()),
                ..KustomizeSource::default()
            }),
            helm: Some(HelmSource {
                values_object: Some(json!({"replicas": 2})),
                parameters: vec![json!({"name": "image.tag", "value": "v2", "forceString": true})],
                ..HelmSource::default()
            }),
            ..ApplicationSource::default()
        };
        let options = render_options(&source, "shop", Duration::from_secs(5));
        assert_eq!(options.kustomize.images, ["a=b:1"]);
        assert_eq!(options.kustomize.name_prefix.as_deref(), Some("p-"));
        assert_eq!(options.helm.values.as_deref(), Some(r#"{"replicas":2}"#));
        assert!(options.helm.parameters[0].force_string);
        assert_eq!(options.namespace, "shop");
    }
}
