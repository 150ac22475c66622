//! A Kustomize source: `kustomize build` when on `PATH`, else `kubectl kustomize`. The
//! Application's Kustomize options (`images`, `namePrefix`, `nameSuffix`, `commonLabels`,
//! `commonAnnotations`, `namespace`) go into a generated kustomization that takes the source
//! folder as its one resource, written inside the private checkout: the effect of Argo CD's
//! `kustomize edit set ...` without editing the user's files.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use super::{RenderError, documents, process};

/// `spec.source.kustomize`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KustomizeOptions {
    /// Image overrides in `kustomize edit set image` syntax (`[old=]new[:tag|@digest]`).
    pub images: Vec<String>,
    /// Prefix for every name.
    pub name_prefix: Option<String>,
    /// Suffix for every name.
    pub name_suffix: Option<String>,
    /// Labels added to every object and selector.
    pub common_labels: BTreeMap<String, String>,
    /// Annotations added to every object.
    pub common_annotations: BTreeMap<String, String>,
    /// Namespace for every namespaced object.
    pub namespace: Option<String>,
}

impl KustomizeOptions {
    fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// One `images` entry as a kustomization `images` item.
#[must_use]
pub fn kustomize_image(spec: &str) -> Value {
    let (name, new) = spec.split_once('=').map_or((None, spec), |(n, v)| (Some(n), v));
    let (image, digest) = new.split_once('@').map_or((new, None), |(i, d)| (i, Some(d)));
    let last_slash = image.rfind('/').map_or(0, |i| i + 1);
    let (image, tag) = match image[last_slash..].rfind(':') {
        Some(i) => (&image[..last_slash + i], Some(&image[last_slash + i + 1..])),
        None => (image, None),
    };
    let mut entry = json!({ "name": name.unwrap_or(image) });
    if name.is_some() {
        entry["newName"] = json!(image);
    }
    if let Some(tag) = tag {
        entry["newTag"] = json!(tag);
    }
    if let Some(digest) = digest {
        entry["digest"] = json!(digest);
    }
    entry
}

pub(super) fn render(
    root: &Path,
    relative: &str,
    options: &KustomizeOptions,
    timeout: Duration,
) -> Result<Vec<Value>, RenderError> {
    let target = if options.is_empty() {
        if relative.is_empty() {
            ".".to_owned()
        } else {
            relative.to_owned()
        }
    } else {
        let dir = root.join(".sluice-kustomize");
        let mut k = json!({
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": [format!("../{relative}")],
        });
        if !options.images.is_empty() {
            k["images"] = options.images.iter().map(|i| kustomize_image(i)).collect();
        }
        if let Some(p) = &options.name_prefix {
            k["namePrefix"] = json!(p);
        }
        if let Some(s) = &options.name_suffix {
            k["nameSuffix"] = json!(s);
        }
        if !options.common_labels.is_empty() {
            k["commonLabels"] = json!(options.common_labels);
        }
        if !options.common_annotations.is_empty() {
            k["commonAnnotations"] = json!(options.common_annotations);
        }
        if let Some(n) = &options.namespace {
            k["namespace"] = json!(n);
        }
        let text = crds::yaml::to_string(&k).map_err(|e| RenderError::Option(e.to_string()))?;
        std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(dir.join("kustomization.yaml"), text))
            .map_err(|e| RenderError::Tool {
                tool: "kustomize".into(),
                message: e.to_string(),
            })?;
        ".sluice-kustomize".to_owned()
    };
    let (program, mut args) = match process::which("kustomize") {
        Some(k) => (k, vec!["build".to_owned()]),
        None => ("kubectl".to_owned(), vec!["kustomize".to_owned()]),
    };
    args.push(target);
    let output = process::run(&program, &args, root, timeout).map_err(|e| match e {
        RenderError::Tool { message, .. } => RenderError::Tool {
            tool: "kustomize".into(),
            message,
        },
        other => other,
    })?;
    documents::parse_documents("kustomize output", &output)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_overrides_in_kustomize_edit_syntax() {
        assert_eq!(
            kustomize_image("nginx:1.25"),
            json!({"name": "nginx", "newTag": "1.25"})
        );
        assert_eq!(
            kustomize_image("nginx=registry:5000/web:2"),
            json!({"name": "nginx", "newName": "registry:5000/web", "newTag": "2"})
        );
        assert_eq!(
            kustomize_image("ghcr.io/x/api@sha256:abc"),
            json!({"name": "ghcr.io/x/api", "digest": "sha256:abc"})
        );
        assert_eq!(
            kustomize_image("localhost:5000/api"),
            json!({"name": "localhost:5000/api"})
        );
    }
}
