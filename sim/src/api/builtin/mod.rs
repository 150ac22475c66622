//! What kube-apiserver does to built-in kinds beyond defaults, written per kind after its Go source
//! (`pkg/apis/core/v1/conversion.go`, `pkg/apis/core/validation/validation.go`): conversions made
//! when an object is decoded (a 400 when it cannot be), and validation (a 422 with its causes).
//! Written by hand: these rules live in Go code, not in any schema a crate could read.

mod gojson;
mod meta;
pub mod names;
pub mod schema;
mod secret;
mod update;

use serde_json::Value;

use super::resources::ResourceType;
use super::status::{ApiError, Cause};

/// Converts `obj` as kube-apiserver decodes it (a Secret's `stringData` folded into `data`, its
/// `data` checked as base64).
///
/// # Errors
/// 400 when the object cannot be decoded.
pub fn decode(rt: &ResourceType, obj: &mut Value) -> Result<(), ApiError> {
    if rt.custom {
        return Ok(());
    }
    match (rt.group.as_str(), rt.plural.as_str()) {
        ("", "secrets") => secret::decode(obj),
        _ => Ok(()),
    }
}

/// Validates `obj` (after defaults) as kube-apiserver's `Validate<Kind>` does.
///
/// # Errors
/// 422 with every cause found.
pub fn validate(rt: &ResourceType, obj: &Value) -> Result<(), ApiError> {
    let mut causes: Vec<Cause> = meta::validate(obj, rt.custom);
    if !rt.custom && rt.group.is_empty() && rt.plural == "secrets" {
        causes.extend(secret::validate(obj));
    }
    refuse(rt, obj, &causes)
}

/// Validates an update of `old` to `new` (after [`validate`]): what kube-apiserver's
/// `Validate<Kind>Update` refuses to change.
///
/// # Errors
/// 422 with every cause found.
pub fn validate_update(rt: &ResourceType, old: &Value, new: &Value) -> Result<(), ApiError> {
    if rt.custom {
        return Ok(());
    }
    refuse(rt, new, &update::validate(&rt.group, &rt.plural, old, new))
}

/// The 422 naming `obj` with `causes`, if there are any.
fn refuse(rt: &ResourceType, obj: &Value, causes: &[Cause]) -> Result<(), ApiError> {
    if causes.is_empty() {
        return Ok(());
    }
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    Err(ApiError::invalid_causes(&rt.group, &rt.kind, name, causes))
}

/// `IsConfigMapKey` (the keys of ConfigMaps and Secrets): the messages of what is wrong.
fn config_map_key(key: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if key.len() > 253 {
        problems.push("must be no more than 253 characters".to_owned());
    }
    if key.is_empty()
        || !key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        problems.push("a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')".to_owned());
    }
    if key == "." {
        problems.push("must not be '.'".to_owned());
    } else if key == ".." {
        problems.push("must not be '..'".to_owned());
    } else if key.starts_with("..") {
        problems.push("must not start with '..'".to_owned());
    }
    problems
}

/// A Go `%q` of `text` (what `field.Invalid` prints as the value).
fn quoted(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}
