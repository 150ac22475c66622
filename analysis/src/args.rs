//! Run arguments: resolving their values and substituting `{{args.NAME}}` into metrics.

use std::collections::BTreeMap;

use crds::analysis::{Argument, Metric};

/// Argument values of one run. Values that came from Secrets are remembered so they can be masked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResolvedArgs {
    /// Name to value.
    pub values: BTreeMap<String, String>,
    /// Values read from Secrets: never written to status, events or logs.
    pub secrets: Vec<String>,
}

impl ResolvedArgs {
    /// Replaces every secret value in `text` with `*****`.
    pub fn mask(&self, text: &str) -> String {
        self.secrets
            .iter()
            .filter(|s| !s.is_empty())
            .fold(text.to_string(), |text, secret| text.replace(secret.as_str(), "*****"))
    }
}

/// An argument that cannot be resolved or substituted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ArgsError {
    /// An argument has neither a value nor a source.
    #[error("args.{0}: no value was supplied")]
    Missing(String),
    /// A metric uses an argument that does not exist.
    #[error("metric {metric:?} uses {{{{args.{name}}}}}, which is not an argument of the run")]
    Undeclared {
        /// The metric.
        metric: String,
        /// The argument name.
        name: String,
    },
    /// The Secret or key behind `valueFrom.secretKeyRef` could not be read.
    #[error("args.{name}: {reason}")]
    Source {
        /// The argument name.
        name: String,
        /// Why its source could not be read.
        reason: String,
    },
    /// After substitution the metric is no longer valid.
    #[error("metric {metric:?} after argument substitution: {reason}")]
    Invalid {
        /// The metric.
        metric: String,
        /// What is wrong.
        reason: String,
    },
}

/// Where a `valueFrom` argument's value comes from, fetched by the caller.
pub trait ArgSource {
    /// The value of `key` in Secret `name` of the run's namespace.
    ///
    /// # Errors
    /// A message saying why it cannot be read (missing Secret, missing key).
    fn secret(&self, name: &str, key: &str) -> Result<String, String>;
    /// The value at `fieldPath` of the object the run belongs to.
    ///
    /// # Errors
    /// A message saying why the path cannot be read.
    fn field(&self, path: &str) -> Result<String, String>;
}

/// Resolves every argument's value.
///
/// # Errors
/// The first argument without a value, or whose source cannot be read.
pub fn resolve(args: &[Argument], source: &dyn ArgSource) -> Result<ResolvedArgs, ArgsError> {
    let mut resolved = ResolvedArgs::default();
    for arg in args {
        let value = if let Some(value) = &arg.value {
            value.clone()
        } else if let Some(from) = &arg.value_from {
            let fetched = if let Some(secret) = &from.secret_key_ref {
                let value = source.secret(&secret.name, &secret.key);
                if let Ok(value) = &value {
                    resolved.secrets.push(value.clone());
                }
                value
            } else if let Some(field) = &from.field_ref {
                source.field(&field.field_path)
            } else {
                return Err(ArgsError::Missing(arg.name.clone()));
            };
            fetched.map_err(|reason| ArgsError::Source {
                name: arg.name.clone(),
                reason,
            })?
        } else {
            return Err(ArgsError::Missing(arg.name.clone()));
        };
        resolved.values.insert(arg.name.clone(), value);
    }
    Ok(resolved)
}

/// Substitutes `{{args.NAME}}` (whitespace inside the braces allowed) into every field of a
/// metric. Values are JSON-escaped, so quotes or newlines in a value cannot break the metric.
///
/// # Errors
/// A placeholder naming an unknown argument, or a metric that no longer deserializes.
pub fn substitute(metric: &Metric, args: &ResolvedArgs) -> Result<Metric, ArgsError> {
    let text = serde_json::to_string(metric).map_err(|e| invalid(metric, &e))?;
    if !text.contains("{{") {
        return Ok(metric.clone());
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let inner = after[..end].trim();
        match inner.strip_prefix("args.").map(str::trim) {
            Some(name) => {
                let value = args.values.get(name).ok_or_else(|| ArgsError::Undeclared {
                    metric: metric.name.clone(),
                    name: name.to_string(),
                })?;
                let quoted = serde_json::to_string(value).map_err(|e| invalid(metric, &e))?;
                out.push_str(&quoted[1..quoted.len() - 1]);
            }
            None => out.push_str(&rest[start..start + 2 + end + 2]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    serde_json::from_str(&out).map_err(|e| invalid(metric, &e))
}

fn invalid(metric: &Metric, error: &serde_json::Error) -> ArgsError {
    ArgsError::Invalid {
        metric: metric.name.clone(),
        reason: error.to_string(),
    }
}

/// Reads a Kubernetes field path (`metadata.name`, `metadata.labels['env']`,
/// `status.currentPodHash`, `spec.template.spec.containers[0].image`) from an object.
///
/// # Errors
/// A message when the path does not exist or is not a scalar.
pub fn read_field_path(object: &serde_json::Value, path: &str) -> Result<String, String> {
    let mut current = object;
    let mut rest = path.trim();
    while !rest.is_empty() {
        rest = rest.strip_prefix('.').unwrap_or(rest);
        let (segment, tail) = if let Some(bracketed) = rest.strip_prefix('[') {
            let end = bracketed.find(']').ok_or_else(|| format!("{path}: unclosed ["))?;
            (&bracketed[..end], &bracketed[end + 1..])
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            (&rest[..end], &rest[end..])
        };
        let key = segment.trim().trim_matches(['\'', '"']);
        current = match current {
            serde_json::Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
            serde_json::Value::Object(map) => map.get(key),
            _ => None,
        }
        .ok_or_else(|| format!("fieldPath {path:?} does not exist"))?;
        rest = tail;
    }
    match current {
        serde_json::Value::String(s) => Ok(s.clone()),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        serde_json::Value::Bool(b) => Ok(b.to_string()),
        serde_json::Value::Null => Err(format!("fieldPath {path:?} is null")),
        other => Ok(other.to_string()),
    }
}
