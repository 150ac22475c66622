//! A directory source: every `*.yaml`, `*.yml` and `*.json` file of the path (and its subfolders
//! with `recurse`), in lexical order as Argo CD's `findManifests` walks them, filtered by the
//! `include` and `exclude` globs matched against the path relative to the source folder (Go's
//! `filepath.Match`: `*` never crosses a `/`; `{a,b}` alternatives as Argo CD allows).

use std::path::Path;

use globset::{Glob, GlobMatcher};
use serde_json::Value;

use super::RenderError;
use super::documents::{self, Document};

/// `spec.source.directory`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DirectoryOptions {
    /// Descend into subfolders.
    pub recurse: bool,
    /// Only files matching this glob.
    pub include: Option<String>,
    /// Not files matching this glob.
    pub exclude: Option<String>,
}

fn matcher(field: &str, pattern: Option<&str>) -> Result<Option<GlobMatcher>, RenderError> {
    pattern
        .filter(|p| !p.is_empty())
        .map(|p| {
            globset::GlobBuilder::new(p)
                .literal_separator(true)
                .build()
                .map(|g: Glob| g.compile_matcher())
                .map_err(|e| RenderError::Option(format!("spec.source.directory.{field}: {e}")))
        })
        .transpose()
}

pub(super) fn render(root: &Path, dir: &Path, options: &DirectoryOptions) -> Result<Vec<Value>, RenderError> {
    let mut files = Vec::new();
    walk(dir, options.recurse, &mut files);
    let mut texts = Vec::new();
    for file in files {
        let relative = file.strip_prefix(dir).unwrap_or(&file).to_string_lossy().into_owned();
        let shown = file.strip_prefix(root).unwrap_or(&file).to_string_lossy().into_owned();
        let text = std::fs::read(&file).map_err(|e| RenderError::Manifest {
            file: shown.clone(),
            line: 0,
            reason: e.to_string(),
        })?;
        texts.push((relative, shown, text));
    }
    render_texts(texts, options)
}

/// Renders a directory given as its files: (path relative to the source folder, path shown in
/// errors, content). Files that are not manifests, or in subfolders without `recurse`, are skipped.
pub fn render_texts(
    mut files: Vec<(String, String, Vec<u8>)>,
    options: &DirectoryOptions,
) -> Result<Vec<Value>, RenderError> {
    let include = matcher("include", options.include.as_deref())?;
    let exclude = matcher("exclude", options.exclude.as_deref())?;
    files.sort();
    let mut docs: Vec<Document> = Vec::new();
    for (relative, shown, bytes) in files {
        let manifest = [".yaml", ".yml", ".json"].iter().any(|e| relative.ends_with(e));
        let hidden = relative.split('/').any(|c| c.starts_with('.'));
        if !manifest || hidden || (!options.recurse && relative.contains('/')) {
            continue;
        }
        if include.as_ref().is_some_and(|m| !m.is_match(&relative))
            || exclude.as_ref().is_some_and(|m| m.is_match(&relative))
        {
            continue;
        }
        let text = String::from_utf8(bytes).map_err(|_| RenderError::Manifest {
            file: shown.clone(),
            line: 0,
            reason: "the file is not UTF-8".into(),
        })?;
        docs.extend(documents::parse(&shown, &text)?);
    }
    documents::check_unique_documents(&docs)?;
    Ok(docs.into_iter().map(|d| d.object).collect())
}

fn walk(dir: &Path, recurse: bool, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if path.is_dir() {
            if recurse && !hidden {
                walk(&path, recurse, out);
            }
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
        {
            out.push(path);
        }
    }
}
