//! Validation of a YAML document of any Sluice kind, as `kubectl sluice lint` and tests use it.

use serde::de::DeserializeOwned;

use super::{FieldError, Validate};
use crate::{AnalysisRun, AnalysisTemplate, AppProject, Application, ApplicationSet, ClusterAnalysisTemplate, Rollout};

/// A document that cannot be validated at all.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// The document does not decode into the type of its kind.
    #[error("{kind} {name}: {source}")]
    Decode {
        /// Kind of the document.
        kind: String,
        /// metadata.name, or `<unnamed>`.
        name: String,
        /// The decoding error, with the path of the offending field.
        #[source]
        source: serde_path_to_error::Error<serde_json::Error>,
    },
}

fn check<T: DeserializeOwned + Validate>(
    doc: &serde_json::Value,
    kind: &str,
    name: &str,
) -> Result<Vec<FieldError>, DocumentError> {
    let object: T = serde_path_to_error::deserialize(doc).map_err(|source| DocumentError::Decode {
        kind: kind.to_owned(),
        name: name.to_owned(),
        source,
    })?;
    Ok(object.validate())
}

/// Validates one document by its `kind`.
///
/// Returns `Ok(None)` for kinds outside `argoproj.io` that Sluice does not check (Services,
/// ConfigMaps, ...), `Ok(Some(problems))` otherwise.
///
/// # Errors
/// [`DocumentError::Decode`] when the document does not decode into its type.
pub fn validate_document(doc: &serde_json::Value) -> Result<Option<Vec<FieldError>>, DocumentError> {
    let api_version = doc
        .get("apiVersion")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default();
    if !api_version.starts_with("argoproj.io/") {
        return Ok(None);
    }
    let kind = doc.get("kind").and_then(serde_json::Value::as_str).unwrap_or_default();
    let name = doc
        .pointer("/metadata/name")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("<unnamed>");
    let problems = match kind {
        "Rollout" => check::<Rollout>(doc, kind, name)?,
        "AnalysisTemplate" => check::<AnalysisTemplate>(doc, kind, name)?,
        "ClusterAnalysisTemplate" => check::<ClusterAnalysisTemplate>(doc, kind, name)?,
        "AnalysisRun" => check::<AnalysisRun>(doc, kind, name)?,
        "Application" => check::<Application>(doc, kind, name)?,
        "AppProject" => check::<AppProject>(doc, kind, name)?,
        "ApplicationSet" => check::<ApplicationSet>(doc, kind, name)?,
        _ => return Ok(None),
    };
    Ok(Some(problems))
}
