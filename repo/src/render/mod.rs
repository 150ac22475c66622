//! Rendering a checked-out path into Kubernetes objects, as Argo CD's repo server does: a
//! `kustomization.yaml` makes it a Kustomize source, a `Chart.yaml` a Helm chart, anything else a
//! directory of manifests. Kustomize and Helm run as child processes with a timeout; bad input is
//! an error naming the file, the line and the reason, and nothing partial is returned.

pub mod directory;
mod documents;
mod helm;
mod kustomize;
pub mod kustomize_inputs;
mod process;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use thiserror::Error;

pub use directory::DirectoryOptions;
pub use documents::parse_documents;
pub use helm::{HelmOptions, HelmParameter, helm_template_args};
pub use kustomize::{KustomizeOptions, kustomize_image};

/// Which tool renders a source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceType {
    /// A folder of YAML and JSON manifests.
    Directory,
    /// A Kustomize build.
    Kustomize,
    /// A Helm chart.
    Helm,
}

impl SourceType {
    /// Argo CD's name for it (`status.sourceType`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Directory => "Directory",
            Self::Kustomize => "Kustomize",
            Self::Helm => "Helm",
        }
    }
}

/// How a source asks to be rendered.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RenderOptions {
    /// Directory options.
    pub directory: DirectoryOptions,
    /// Kustomize options, when the Application gives some.
    pub kustomize: KustomizeOptions,
    /// Helm options.
    pub helm: HelmOptions,
    /// The destination namespace (Helm's `--namespace`).
    pub namespace: String,
    /// How long a child process may run.
    pub timeout: Duration,
    /// The `helm` to run (`None`: the first on `PATH`).
    pub helm_binary: Option<String>,
}

/// A failed render: what the Application's ComparisonError condition says.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum RenderError {
    /// The path is not in the repository.
    #[error("path {0:?} does not exist in the repository")]
    MissingPath(String),
    /// A manifest could not be read.
    #[error("{file}:{line}: {reason}")]
    Manifest {
        /// The file, relative to the repository root.
        file: String,
        /// 1-based line (0 when unknown).
        line: usize,
        /// Why.
        reason: String,
    },
    /// Two manifests declare the same object.
    #[error("{first} and {second} both declare {object}")]
    Duplicate {
        /// `group/Kind namespace/name`.
        object: String,
        /// Where it appeared first.
        first: String,
        /// Where again.
        second: String,
    },
    /// A tool failed, timed out or is missing.
    #[error("{tool}: {message}")]
    Tool {
        /// `kustomize`, `helm`.
        tool: String,
        /// Its error output, or why it did not run.
        message: String,
    },
    /// An option that cannot be used.
    #[error("{0}")]
    Option(String),
}

/// What a render produced.
#[derive(Clone, Debug, PartialEq)]
pub struct Rendered {
    /// The objects, in file order.
    pub objects: Vec<Value>,
    /// The tool used.
    pub source_type: SourceType,
}

/// The source type of the folder `dir`, by Argo CD's rules.
#[must_use]
pub fn detect(dir: &Path) -> SourceType {
    if ["kustomization.yaml", "kustomization.yml", "Kustomization"]
        .iter()
        .any(|f| dir.join(f).is_file())
    {
        SourceType::Kustomize
    } else if dir.join("Chart.yaml").is_file() {
        SourceType::Helm
    } else {
        SourceType::Directory
    }
}

/// Renders a directory source from its files (see [`directory::render_texts`]), without a
/// checkout: what the repository cache reads straight from a commit.
pub fn render_directory_files(
    files: Vec<(String, String, Vec<u8>)>,
    options: &RenderOptions,
) -> Result<Rendered, RenderError> {
    let objects = directory::render_texts(files, &options.directory)?;
    documents::check_unique(&objects)?;
    Ok(Rendered {
        objects,
        source_type: SourceType::Directory,
    })
}

/// Renders `path` (relative to the checked-out `root`) with `options`.
pub fn render(root: &Path, path: &str, release: &str, options: &RenderOptions) -> Result<Rendered, RenderError> {
    let relative = path.trim_start_matches("./").trim_matches('/');
    if relative.split('/').any(|c| c == "..") {
        return Err(RenderError::MissingPath(path.to_owned()));
    }
    let dir: PathBuf = if relative.is_empty() || relative == "." {
        root.to_path_buf()
    } else {
        root.join(relative)
    };
    if !dir.is_dir() {
        return Err(RenderError::MissingPath(path.to_owned()));
    }
    let source_type = detect(&dir);
    let objects = match source_type {
        SourceType::Directory => directory::render(root, &dir, &options.directory)?,
        SourceType::Kustomize => kustomize::render(root, relative, &options.kustomize, options.timeout)?,
        SourceType::Helm => helm::render(&dir, release, options)?,
    };
    documents::check_unique(&objects)?;
    Ok(Rendered { objects, source_type })
}
