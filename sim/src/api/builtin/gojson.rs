//! The error Go's `json.Unmarshal` into `map[string]interface{}` gives, for the validations that
//! quote it (a dockercfg Secret's JSON): its scanner's words for the common mistakes, and the
//! type error for JSON that is not an object. Written by hand: the messages are Go's own text.

use serde_json::Value;

fn describe(c: char) -> String {
    match c {
        '\'' => "'\\''".to_owned(),
        '"' => "'\"'".to_owned(),
        c if c.is_control() => format!("{:?}", c).replace('"', "'"),
        c => format!("'{c}'"),
    }
}

/// Why `bytes` do not unmarshal into a JSON object, as Go says it; `None` when they do (or are
/// `null`, which Go accepts).
pub(super) fn object_error(bytes: &[u8]) -> Option<String> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Some("invalid character looking for beginning of value".to_owned());
    };
    let trimmed = text.trim_start_matches([' ', '\t', '\n', '\r']);
    let Some(first) = trimmed.chars().next() else {
        return Some("unexpected end of JSON input".to_owned());
    };
    for literal in ["null", "true", "false"] {
        if literal.starts_with(first) {
            let mut rest = trimmed.chars().skip(1);
            for expected in literal.chars().skip(1) {
                match rest.next() {
                    None => return Some("unexpected end of JSON input".to_owned()),
                    Some(c) if c != expected => {
                        return Some(format!(
                            "invalid character {} in literal {literal} (expecting '{expected}')",
                            describe(c)
                        ));
                    }
                    Some(_) => {}
                }
            }
        }
    }
    match serde_json::from_str::<Value>(trimmed) {
        Ok(Value::Object(_) | Value::Null) => None,
        Ok(other) => {
            let kind = match other {
                Value::Bool(_) => "bool",
                Value::Number(_) => "number",
                Value::String(_) => "string",
                _ => "array",
            };
            Some(format!(
                "json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}"
            ))
        }
        Err(e) if e.is_eof() => Some("unexpected end of JSON input".to_owned()),
        Err(e) => {
            let at = trimmed
                .lines()
                .take(e.line().saturating_sub(1))
                .map(|l| l.len() + 1)
                .sum::<usize>()
                + e.column().saturating_sub(1);
            let c = trimmed[at.min(trimmed.len())..].chars().next().unwrap_or(' ');
            Some(format!(
                "invalid character {} looking for beginning of value",
                describe(c)
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::object_error;

    #[test]
    fn go_words_the_common_mistakes() {
        assert_eq!(
            object_error(b"not json").as_deref(),
            Some("invalid character 'o' in literal null (expecting 'u')")
        );
        assert_eq!(object_error(b"").as_deref(), Some("unexpected end of JSON input"));
        assert_eq!(
            object_error(b"\"x\"").as_deref(),
            Some("json: cannot unmarshal string into Go value of type map[string]interface {}")
        );
        assert_eq!(object_error(br#"{"auths": {}}"#), None);
    }
}
