//! The value a provider hands to the conditions, and how it is shown in messages.

use expr::Value;

/// A measurement's `result`: what the conditions see.
#[derive(Clone, Debug, PartialEq)]
pub enum ResultValue {
    /// No value (e.g. an empty response).
    Nil,
    /// A Prometheus scalar.
    Scalar(f64),
    /// A Prometheus vector or matrix, flattened.
    Vector(Vec<f64>),
    /// A decoded JSON document (web provider).
    Json(serde_json::Value),
    /// A response body that is not JSON.
    Text(String),
}

impl ResultValue {
    /// The value as expr sees it. JSON numbers are floats, as in Go's `encoding/json`.
    pub fn to_expr(&self) -> Value {
        match self {
            Self::Nil => Value::Nil,
            Self::Scalar(f) => Value::Float(*f),
            Self::Vector(values) => Value::Array(values.iter().map(|f| Value::Float(*f)).collect()),
            Self::Json(json) => from_json(json),
            Self::Text(text) => Value::String(text.clone()),
        }
    }

    /// The value as text, as Argo stores it in `measurement.value`.
    pub fn render(&self) -> String {
        match self {
            Self::Nil => "<nil>".to_string(),
            Self::Scalar(f) => format_float(*f),
            Self::Vector(values) => {
                format!(
                    "[{}]",
                    values.iter().map(|f| format_float(*f)).collect::<Vec<_>>().join(",")
                )
            }
            Self::Json(json) => json.to_string(),
            Self::Text(text) => text.clone(),
        }
    }

    /// Why a condition over this value probably failed to evaluate, when the value explains it.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Self::Nil => Some("the result is nil: the provider returned no data; test it with isNil(result)"),
            Self::Vector(values) if values.is_empty() => Some(
                "the result is an empty list: the query returned no data; guard with len(result) > 0 or use default(result[0], x)",
            ),
            Self::Vector(values) if values.iter().any(|f| f.is_nan()) => {
                Some("the result contains NaN; test it with isNaN(...)")
            }
            Self::Scalar(f) if f.is_nan() => Some("the result is NaN; test it with isNaN(result)"),
            _ => None,
        }
    }
}

/// Formats a float as Go's `strconv.FormatFloat(f, 'f', -1, 64)` (Prometheus' sample format).
pub fn format_float(f: f64) -> String {
    if f.is_nan() {
        "NaN".to_string()
    } else if f.is_infinite() {
        if f > 0.0 { "+Inf" } else { "-Inf" }.to_string()
    } else {
        format!("{f}")
    }
}

fn from_json(json: &serde_json::Value) -> Value {
    match json {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => n.as_f64().map_or(Value::Nil, Value::Float),
        serde_json::Value::String(s) => Value::String(s.clone()),
        serde_json::Value::Array(items) => Value::Array(items.iter().map(from_json).collect()),
        serde_json::Value::Object(map) => Value::Map(map.iter().map(|(k, v)| (k.clone(), from_json(v))).collect()),
    }
}

/// The type of an expr value, in words.
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Integer(_) => "int",
        Value::Float(_) => "float",
        Value::Bool(_) => "bool",
        Value::Nil => "nil",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Map(_) | Value::KeyedMap(_) => "map",
        Value::Bytes(_) => "bytes",
        _ => "time value",
    }
}

/// An expr value in words, for messages: its type and its text.
pub fn describe(value: &Value) -> String {
    format!("{} {value}", type_name(value))
}
