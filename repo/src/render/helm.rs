//! A Helm chart: `helm template` as Argo CD's repo server runs it (release name, namespace, value
//! files, inline values, `--set`/`--set-string` parameters, CRDs included unless `skipCrds`).
//! With no `helm` on `PATH` the render fails saying so, which the Application shows as its
//! ComparisonError.

use std::path::Path;

use serde_json::Value;

use super::{RenderError, documents, process};

/// One `spec.source.helm.parameters` entry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HelmParameter {
    /// Dotted value path.
    pub name: String,
    /// Value.
    pub value: String,
    /// Pass as a string (`--set-string`).
    pub force_string: bool,
}

/// `spec.source.helm`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HelmOptions {
    /// Release name (default: the Application's name).
    pub release_name: Option<String>,
    /// Value files, relative to the chart.
    pub value_files: Vec<String>,
    /// Inline values as YAML (`values`, or `valuesObject` serialised).
    pub values: Option<String>,
    /// `--set` parameters.
    pub parameters: Vec<HelmParameter>,
    /// Leave the chart's CRDs out.
    pub skip_crds: bool,
    /// Skip value files that do not exist instead of failing.
    pub ignore_missing_value_files: bool,
}

/// The file inline values are written to, inside the private checkout of the chart.
const INLINE_VALUES: &str = ".sluice-values.yaml";

/// The `helm` arguments for rendering the chart in the current folder.
#[must_use]
pub fn helm_template_args(
    release: &str,
    namespace: &str,
    options: &HelmOptions,
    existing: &dyn Fn(&str) -> bool,
) -> Vec<String> {
    let release = options.release_name.as_deref().unwrap_or(release);
    let mut args = vec!["template".to_owned(), release.to_owned(), ".".to_owned()];
    if !namespace.is_empty() {
        args.extend(["--namespace".to_owned(), namespace.to_owned()]);
    }
    args.push(
        if options.skip_crds {
            "--skip-crds"
        } else {
            "--include-crds"
        }
        .to_owned(),
    );
    for file in &options.value_files {
        if options.ignore_missing_value_files && !existing(file) {
            continue;
        }
        args.extend(["--values".to_owned(), file.clone()]);
    }
    if options.values.as_deref().is_some_and(|v| !v.trim().is_empty()) {
        args.extend(["--values".to_owned(), INLINE_VALUES.to_owned()]);
    }
    for p in &options.parameters {
        let flag = if p.force_string { "--set-string" } else { "--set" };
        args.extend([flag.to_owned(), format!("{}={}", p.name, p.value)]);
    }
    args
}

pub(super) fn render(dir: &Path, release: &str, render: &super::RenderOptions) -> Result<Vec<Value>, RenderError> {
    let (namespace, options, timeout) = (render.namespace.as_str(), &render.helm, render.timeout);
    let Some(helm) = render.helm_binary.clone().or_else(|| process::which("helm")) else {
        return Err(RenderError::Tool {
            tool: "helm".into(),
            message: "no helm binary on the controller's PATH: Helm sources need helm installed".into(),
        });
    };
    for file in &options.value_files {
        if file.split('/').any(|c| c == "..") || file.starts_with('/') {
            return Err(RenderError::Option(format!(
                "spec.source.helm.valueFiles: {file:?} is outside the repository"
            )));
        }
    }
    if let Some(values) = options.values.as_deref().filter(|v| !v.trim().is_empty()) {
        std::fs::write(dir.join(INLINE_VALUES), values).map_err(|e| RenderError::Tool {
            tool: "helm".into(),
            message: e.to_string(),
        })?;
    }
    let existing = |f: &str| dir.join(f).is_file();
    let args = helm_template_args(release, namespace, options, &existing);
    let output = process::run(&helm, &args, dir, timeout)?;
    documents::parse_documents("helm template output", &output)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_of_helm_template() {
        let options = HelmOptions {
            release_name: Some("web".into()),
            value_files: vec!["values-prod.yaml".into(), "missing.yaml".into()],
            values: Some("replicaCount: 3\n".into()),
            parameters: vec![
                HelmParameter {
                    name: "image.tag".into(),
                    value: "v2".into(),
                    force_string: false,
                },
                HelmParameter {
                    name: "port".into(),
                    value: "80".into(),
                    force_string: true,
                },
            ],
            skip_crds: false,
            ignore_missing_value_files: true,
        };
        let existing = |f: &str| f == "values-prod.yaml";
        assert_eq!(
            helm_template_args("app", "shop", &options, &existing).join(" "),
            "template web . --namespace shop --include-crds --values values-prod.yaml --values .sluice-values.yaml --set image.tag=v2 --set-string port=80"
        );
        let plain = helm_template_args(
            "app",
            "",
            &HelmOptions {
                skip_crds: true,
                ..HelmOptions::default()
            },
            &existing,
        );
        assert_eq!(plain.join(" "), "template app . --skip-crds");
    }
}
