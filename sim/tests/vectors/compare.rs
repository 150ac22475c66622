//! Comparing an answer with what the real server gave, by the README's two tiers. Each mismatch is
//! returned as one line saying what differs.

use serde_json::Value;

/// An HTTP answer.
#[derive(Clone, Debug)]
pub struct Answer {
    /// The status code (0: the request failed).
    pub code: u16,
    /// The body as JSON, when it is.
    pub json: Option<Value>,
    /// The raw body.
    pub text: String,
    /// The texts of the Warning headers.
    pub warnings: Vec<String>,
}

/// The message rule: `{ns}` for the namespace, no-break spaces as spaces, Go pointers as `0xPTR`.
fn normalize(text: &str, ns: &str) -> String {
    let text = text.replace(ns, "{ns}").replace('\u{a0}', " ");
    let mut out = String::with_capacity(text.len());
    let bytes: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == '0' && bytes.get(i + 1) == Some(&'x') {
            let digits = bytes[i + 2..].iter().take_while(|c| c.is_ascii_hexdigit()).count();
            if digits >= 8 {
                out.push_str("0xPTR");
                i += 2 + digits;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_value(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same_value(v, w)))
        }
        _ => a == b,
    }
}

fn str_at<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or_default()
}

/// The `until` matchers of a setup step (`code`, `fields`, `present`, `absent`, `lengths`).
#[must_use]
pub fn matches_until(until: &Value, answer: &Answer) -> bool {
    let mut problems = Vec::new();
    strict_body(until, answer, &mut problems);
    if let Some(code) = until["code"].as_u64()
        && u64::from(answer.code) != code
    {
        problems.push(String::new());
    }
    problems.is_empty()
}

/// `fields`, `present`, `absent`, `lengths` against the JSON body.
fn strict_body(expect: &Value, answer: &Answer, problems: &mut Vec<String>) {
    let body = answer.json.clone().unwrap_or(Value::Null);
    for (pointer, want) in expect["fields"].as_object().into_iter().flatten() {
        match body.pointer(pointer) {
            Some(got) if same_value(got, want) => {}
            got => problems.push(format!(
                "field {pointer}: got {}, want {want}",
                got.unwrap_or(&Value::Null)
            )),
        }
    }
    for pointer in expect["present"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if body.pointer(pointer).is_none() {
            problems.push(format!("{pointer} should be present"));
        }
    }
    for pointer in expect["absent"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if let Some(got) = body.pointer(pointer) {
            problems.push(format!("{pointer} should be absent, is {got}"));
        }
    }
    for (pointer, want) in expect["lengths"].as_object().into_iter().flatten() {
        let got = match body.pointer(pointer) {
            Some(Value::Array(a)) => Some(a.len()),
            Some(Value::Object(o)) => Some(o.len()),
            _ => None,
        };
        if got.map(|g| g as u64) != want.as_u64() {
            problems.push(format!("length of {pointer}: got {got:?}, want {want}"));
        }
    }
}

/// Every difference between `answer` and `expect` (both tiers); empty when it is reproduced.
#[must_use]
pub fn differences(expect: &Value, answer: &Answer, last_rv: Option<&str>, ns: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some(code) = expect["code"].as_u64()
        && u64::from(answer.code) != code
    {
        problems.push(format!("code {}, want {code}", answer.code));
    }
    let body = answer.json.clone().unwrap_or(Value::Null);
    let failure = body["kind"] == "Status" && body["status"] == "Failure";
    if let Some(reason) = expect.get("reason").and_then(Value::as_str) {
        let got = if failure {
            str_at(&body, "/reason")
        } else {
            "<not a Status>"
        };
        if got != reason {
            problems.push(format!("reason {got:?}, want {reason:?}"));
        }
    }
    for key in ["name", "group", "kind"] {
        let want = expect
            .pointer(&format!("/details/{key}"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        let got = str_at(&body, &format!("/details/{key}"));
        if failure && got != want {
            problems.push(format!("details.{key} {got:?}, want {want:?}"));
        }
    }
    causes(expect, &body, ns, &mut problems);
    if let Some(message) = expect.get("message").and_then(Value::as_str) {
        let got = normalize(str_at(&body, "/message"), ns);
        if got != normalize(message, ns) {
            problems.push(format!("message {got:?}\n      want {:?}", normalize(message, ns)));
        }
    }
    if let Some(want) = expect.get("body").and_then(Value::as_str)
        && normalize(&answer.text, ns).trim() != normalize(want, ns).trim()
    {
        problems.push(format!("body {:?}, want {want:?}", answer.text));
    }
    strict_body(expect, answer, &mut problems);
    if let Some(changed) = expect.get("rv_changed").and_then(Value::as_bool) {
        let got = body.pointer("/metadata/resourceVersion").and_then(Value::as_str);
        if (got != last_rv) != changed {
            problems.push(format!(
                "resourceVersion {got:?} after {last_rv:?}: changed should be {changed}"
            ));
        }
    }
    if let Some(want) = expect.get("managers") {
        managers(want, &body, &mut problems);
    }
    if let Some(want) = expect.get("warnings").and_then(Value::as_array) {
        let mut want: Vec<String> = want
            .iter()
            .filter_map(Value::as_str)
            .map(|w| normalize(w, ns))
            .collect();
        let mut got: Vec<String> = answer.warnings.iter().map(|w| normalize(w, ns)).collect();
        want.sort();
        got.sort();
        if got != want {
            problems.push(format!("warnings {got:?}, want {want:?}"));
        }
    }
    problems
}

/// Causes as a multiset: (reason, field) exact, messages normalized.
fn causes(expect: &Value, body: &Value, ns: &str, problems: &mut Vec<String>) {
    let key = |c: &Value| {
        (
            str_at(c, "/reason").to_owned(),
            str_at(c, "/field").to_owned(),
            normalize(str_at(c, "/message"), ns),
        )
    };
    let mut want: Vec<_> = expect["causes"].as_array().into_iter().flatten().map(key).collect();
    let mut got: Vec<_> = body
        .pointer("/details/causes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(key)
        .collect();
    want.sort();
    got.sort();
    if got != want {
        problems.push(format!("causes {got:?}\n      want {want:?}"));
    }
}

/// managedFields reduced to manager, operation, apiVersion, subresource (and fieldsV1 when the
/// recording has it), sorted by (manager, operation, subresource).
fn managers(want: &Value, body: &Value, problems: &mut Vec<String>) {
    let want: Vec<Value> = want.as_array().cloned().unwrap_or_default();
    let with_fields = want.iter().any(|w| w.get("fieldsV1").is_some());
    let reduce = |m: &Value| {
        let mut r = serde_json::Map::new();
        for k in ["manager", "operation", "apiVersion"] {
            r.insert(k.into(), m.get(k).cloned().unwrap_or(Value::Null));
        }
        if let Some(s) = m.get("subresource").and_then(Value::as_str).filter(|s| !s.is_empty()) {
            r.insert("subresource".into(), s.into());
        }
        if with_fields {
            r.insert("fieldsV1".into(), m.get("fieldsV1").cloned().unwrap_or(Value::Null));
        }
        Value::Object(r)
    };
    let sort_key = |m: &Value| {
        (
            str_at(m, "/manager").to_owned(),
            str_at(m, "/operation").to_owned(),
            str_at(m, "/subresource").to_owned(),
        )
    };
    let mut got: Vec<Value> = body
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(reduce)
        .collect();
    let mut want: Vec<Value> = want.iter().map(reduce).collect();
    got.sort_by_key(sort_key);
    want.sort_by_key(sort_key);
    if !same_value(&Value::Array(got.clone()), &Value::Array(want.clone())) {
        problems.push(format!(
            "managedFields {}\n      want {}",
            Value::Array(got),
            Value::Array(want)
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_normalized_as_the_readme_says() {
        assert_eq!(
            normalize("ns vec-1234abcd at 0xc000a1b2c3\u{a0}x", "vec-1234abcd"),
            "ns {ns} at 0xPTR x"
        );
        assert_eq!(normalize("0x1f stays", "n"), "0x1f stays");
    }
}
