//! The OpenAPI v3 value validations a structural CRD schema may carry (`minimum`, `maxLength`,
//! `pattern`, `maxItems`, `format`...), with kube-apiserver's messages: go-openapi's texts, turned
//! into field errors as apiextensions-apiserver's `kubeOpenAPIResultToFieldErrors` does (`TooLong`
//! and `TooMany` for the upper bounds of strings, lists and maps, `Invalid` for the rest).
//! Written by hand: no Rust crate validates against Kubernetes' structural schemas with these
//! messages.

use serde_json::Value;

use super::format;

/// A number as Go's `%v` prints a float64 (`0`, `2.5`).
fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        value.to_string()
    }
}

/// A value as an `Invalid value:` field error prints it (strings quoted, numbers bare).
fn shown(value: &Value) -> String {
    value.to_string()
}

fn invalid(path: &str, value: &Value, what: &str) -> (String, String) {
    (
        path.to_owned(),
        format!("Invalid value: {}: {path} in body {what}", shown(value)),
    )
}

fn too_many(path: &str, actual: usize, max: u64) -> (String, String) {
    (
        path.to_owned(),
        format!("Too many: {actual}: must have at most {max} items"),
    )
}

/// Every bound of `schema` that `value` breaks, as (path, message).
#[must_use]
pub fn check(schema: &Value, value: &Value, path: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    match value {
        Value::Number(n) => {
            if let Some(n) = n.as_f64() {
                numeric(schema, value, n, path, &mut found);
            }
        }
        Value::String(s) => string(schema, value, s, path, &mut found),
        Value::Array(items) => array(schema, value, items, path, &mut found),
        Value::Object(map) => {
            let count = map.len();
            if let Some(min) = schema.get("minProperties").and_then(Value::as_u64)
                && (count as u64) < min
            {
                found.push(invalid(
                    path,
                    &Value::from(count),
                    &format!("should have at least {min} properties"),
                ));
            }
            if let Some(max) = schema.get("maxProperties").and_then(Value::as_u64)
                && count as u64 > max
            {
                found.push(too_many(path, count, max));
            }
        }
        Value::Bool(_) | Value::Null => {}
    }
    if let Some(problem) = schema
        .get("format")
        .and_then(Value::as_str)
        .and_then(|f| format::check(f, value))
    {
        found.push((
            path.to_owned(),
            format!(
                "Invalid value: {}: {path} in body must be of type {problem}: {}",
                shown(value),
                shown(value)
            ),
        ));
    }
    found
}

fn numeric(schema: &Value, value: &Value, n: f64, path: &str, found: &mut Vec<(String, String)>) {
    let exclusive = |key: &str| schema.get(key).and_then(Value::as_bool).unwrap_or(false);
    if let Some(min) = schema.get("minimum").and_then(Value::as_f64) {
        if exclusive("exclusiveMinimum") && n <= min {
            found.push(invalid(path, value, &format!("should be greater than {}", number(min))));
        } else if n < min {
            found.push(invalid(
                path,
                value,
                &format!("should be greater than or equal to {}", number(min)),
            ));
        }
    }
    if let Some(max) = schema.get("maximum").and_then(Value::as_f64) {
        if exclusive("exclusiveMaximum") && n >= max {
            found.push(invalid(path, value, &format!("should be less than {}", number(max))));
        } else if n > max {
            found.push(invalid(
                path,
                value,
                &format!("should be less than or equal to {}", number(max)),
            ));
        }
    }
    if let Some(factor) = schema.get("multipleOf").and_then(Value::as_f64)
        && factor > 0.0
        && (n / factor).fract().abs() > 1e-9
    {
        found.push(invalid(
            path,
            value,
            &format!("should be a multiple of {}", number(factor)),
        ));
    }
}

fn string(schema: &Value, value: &Value, s: &str, path: &str, found: &mut Vec<(String, String)>) {
    let length = s.chars().count() as u64;
    if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
        && length < min
    {
        found.push(invalid(path, value, &format!("should be at least {min} chars long")));
    }
    if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
        && length > max
    {
        let unit = if max == 1 { "byte" } else { "bytes" };
        found.push((path.to_owned(), format!("Too long: may not be more than {max} {unit}")));
    }
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
        match regex::Regex::new(pattern) {
            Ok(re) if !re.is_match(s) => found.push(invalid(path, value, &format!("should match '{pattern}'"))),
            Ok(_) => {}
            Err(_) => found.push(invalid(
                path,
                value,
                &format!("has a pattern that cannot be compiled: '{pattern}'"),
            )),
        }
    }
}

fn array(schema: &Value, value: &Value, items: &[Value], path: &str, found: &mut Vec<(String, String)>) {
    let _ = value;
    let count = items.len();
    if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
        && (count as u64) < min
    {
        found.push(invalid(
            path,
            &Value::from(count),
            &format!("should have at least {min} items"),
        ));
    }
    if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
        && count as u64 > max
    {
        found.push(too_many(path, count, max));
    }
    let unique = schema.get("uniqueItems").and_then(Value::as_bool).unwrap_or(false);
    if unique && items.iter().enumerate().any(|(i, a)| items[..i].contains(a)) {
        found.push(invalid(
            path,
            &Value::String(String::new()),
            "shouldn't contain duplicates",
        ));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn messages(schema: Value, value: Value) -> Vec<String> {
        check(&schema, &value, "spec.x").into_iter().map(|(_, m)| m).collect()
    }

    #[test]
    fn each_bound_has_kube_apiservers_message() {
        let cases = [
            (
                json!({"minimum": 0}),
                json!(-1),
                "Invalid value: -1: spec.x in body should be greater than or equal to 0",
            ),
            (
                json!({"minimum": 0, "exclusiveMinimum": true}),
                json!(0),
                "Invalid value: 0: spec.x in body should be greater than 0",
            ),
            (
                json!({"maximum": 10}),
                json!(11),
                "Invalid value: 11: spec.x in body should be less than or equal to 10",
            ),
            (
                json!({"maximum": 10, "exclusiveMaximum": true}),
                json!(10),
                "Invalid value: 10: spec.x in body should be less than 10",
            ),
            (
                json!({"maximum": 2.5}),
                json!(3.5),
                "Invalid value: 3.5: spec.x in body should be less than or equal to 2.5",
            ),
            (
                json!({"multipleOf": 5}),
                json!(7),
                "Invalid value: 7: spec.x in body should be a multiple of 5",
            ),
            (
                json!({"minLength": 3}),
                json!("ab"),
                "Invalid value: \"ab\": spec.x in body should be at least 3 chars long",
            ),
            (
                json!({"maxLength": 3}),
                json!("abcd"),
                "Too long: may not be more than 3 bytes",
            ),
            (
                json!({"pattern": "^[a-z]+$"}),
                json!("A1"),
                "Invalid value: \"A1\": spec.x in body should match '^[a-z]+$'",
            ),
            (
                json!({"minItems": 2}),
                json!([1]),
                "Invalid value: 1: spec.x in body should have at least 2 items",
            ),
            (
                json!({"maxItems": 1}),
                json!([1, 2]),
                "Too many: 2: must have at most 1 items",
            ),
            (
                json!({"uniqueItems": true}),
                json!([1, 1]),
                "Invalid value: \"\": spec.x in body shouldn't contain duplicates",
            ),
            (
                json!({"minProperties": 2}),
                json!({"a": 1}),
                "Invalid value: 1: spec.x in body should have at least 2 properties",
            ),
            (
                json!({"maxProperties": 1}),
                json!({"a": 1, "b": 2}),
                "Too many: 2: must have at most 1 items",
            ),
            (
                json!({"format": "date-time"}),
                json!("soon"),
                "Invalid value: \"soon\": spec.x in body must be of type date-time: \"soon\"",
            ),
        ];
        for (schema, value, message) in cases {
            assert_eq!(
                messages(schema.clone(), value.clone()),
                [message],
                "{schema} with {value}"
            );
        }
    }

    #[test]
    fn values_within_their_bounds_pass() {
        let cases = [
            (json!({"minimum": 0, "maximum": 10, "multipleOf": 5}), json!(10)),
            (json!({"minLength": 1, "maxLength": 3, "pattern": "^a"}), json!("abc")),
            (
                json!({"minItems": 1, "maxItems": 2, "uniqueItems": true}),
                json!([1, 2]),
            ),
            (json!({"format": "date-time"}), json!("2026-01-02T03:04:05Z")),
            (json!({"maxLength": 2}), json!("éé")),
        ];
        for (schema, value) in cases {
            assert!(
                messages(schema.clone(), value.clone()).is_empty(),
                "{schema} with {value}"
            );
        }
    }
}
