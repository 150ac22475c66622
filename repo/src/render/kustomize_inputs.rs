//! What a Kustomize build reads, for auto-revert's "this Application's input": the source path,
//! and every local base, component, resource, patch and generator file its kustomizations name,
//! followed through the bases' own kustomizations. Read from the commit's tree (no checkout, no
//! `kustomize` run), as paths from the repository root; remote bases (URLs) are not followed.

use std::collections::BTreeSet;

use serde_json::Value;

/// The names a kustomization file may have, in Kustomize's order.
pub const KUSTOMIZATION_FILES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

fn strings(value: Option<&Value>) -> impl Iterator<Item = &str> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

fn objects(value: Option<&Value>) -> impl Iterator<Item = &Value> {
    value.and_then(Value::as_array).into_iter().flatten()
}

/// The local paths a kustomization names (relative to its folder): `resources`, `bases`,
/// `components`, `crds`, patch files, generator files and env files, `replacements`,
/// `transformers` and `generators` given as files. Inline patches and URLs are left out.
#[must_use]
pub fn references(kustomization: &str) -> Vec<String> {
    let Ok(doc) = crds::yaml::from_str::<Value>(kustomization) else {
        return Vec::new();
    };
    let mut out: Vec<&str> = Vec::new();
    for key in [
        "resources",
        "bases",
        "components",
        "crds",
        "patchesStrategicMerge",
        "transformers",
        "generators",
        "validators",
    ] {
        out.extend(strings(doc.get(key)));
    }
    for key in ["patches", "patchesJson6902", "replacements"] {
        out.extend(objects(doc.get(key)).filter_map(|p| p.get("path")?.as_str()));
    }
    for key in ["configMapGenerator", "secretGenerator"] {
        for generator in objects(doc.get(key)) {
            out.extend(strings(generator.get("files")).map(|f| f.split_once('=').map_or(f, |(_, path)| path)));
            out.extend(strings(generator.get("envs")));
            out.extend(generator.get("env").and_then(Value::as_str));
        }
    }
    out.into_iter()
        .filter(|r| !r.contains('\n') && !r.contains("://") && !r.starts_with("github.com/") && !r.starts_with("git@"))
        .map(str::to_owned)
        .collect()
}

/// `base/relative` with `.` and `..` resolved; `None` when it leaves the repository.
#[must_use]
pub fn join(base: &str, relative: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in base.split('/').chain(relative.split('/')) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// Everything the build of `path` reads: `path` itself, and each local reference followed
/// through the kustomizations found (`kustomization(dir)` gives a folder's kustomization text, or
/// `None` when the path is not a folder with one).
pub fn inputs(path: &str, mut kustomization: impl FnMut(&str) -> Option<String>) -> Vec<String> {
    let root = join("", path).unwrap_or_default();
    let mut seen = BTreeSet::from([root.clone()]);
    let mut queue = vec![root];
    while let Some(dir) = queue.pop() {
        let Some(text) = kustomization(&dir) else { continue };
        for reference in references(&text) {
            let Some(target) = join(&dir, &reference) else { continue };
            if seen.insert(target.clone()) {
                queue.push(target);
            }
        }
    }
    // A folder already in the input covers what lies under it.
    let all: Vec<String> = seen.into_iter().collect();
    all.iter()
        .filter(|p| {
            !all.iter()
                .any(|q| q != *p && (q.is_empty() || p.starts_with(&format!("{q}/"))))
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn references_cover_bases_patches_and_generators_not_urls_or_inline_patches() {
        let text = "resources:\n- ../../base\n- extra.yaml\n- https://github.com/org/repo//deploy?ref=v1\nbases: [../../legacy]\ncomponents: [../../components/tls]\npatchesStrategicMerge:\n- ../../patches/replicas.yaml\n- |\n  apiVersion: v1\n  kind: ConfigMap\npatches:\n- path: ../../patches/image.yaml\n- patch: '[]'\nconfigMapGenerator:\n- name: c\n  files: [app.properties, key=../../shared/key.txt]\n  envs: [../../shared/env]\n";
        assert_eq!(
            references(text),
            [
                "../../base",
                "extra.yaml",
                "../../legacy",
                "../../components/tls",
                "../../patches/replicas.yaml",
                "../../patches/image.yaml",
                "app.properties",
                "../../shared/key.txt",
                "../../shared/env",
            ]
        );
        assert!(references("not: [yaml").is_empty());
    }

    #[test]
    fn joins_resolve_dots_and_refuse_to_leave_the_repository() {
        assert_eq!(
            join("apps/shop/overlays/prod", "../../base").as_deref(),
            Some("apps/shop/base")
        );
        assert_eq!(join("apps", "./x/../y.yaml").as_deref(), Some("apps/y.yaml"));
        assert_eq!(join("apps", "../../outside"), None);
    }

    #[test]
    fn inputs_follow_bases_transitively_and_fold_what_a_folder_covers() {
        let tree: BTreeMap<&str, &str> = [
            (
                "shop/overlays/prod",
                "resources: [../../base, local.yaml]\npatches: [{path: ../../../shared/patch.yaml}]\n",
            ),
            ("shop/base", "resources: [deploy.yaml, ../../common/labels]\n"),
            ("common/labels", "resources: [labels.yaml]\n"),
        ]
        .into();
        let got = inputs("shop/overlays/prod/", |dir| tree.get(dir).map(|t| (*t).to_owned()));
        assert_eq!(
            got,
            ["common/labels", "shared/patch.yaml", "shop/base", "shop/overlays/prod"]
        );
    }
}
