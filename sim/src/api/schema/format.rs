//! The string formats kube-apiserver checks in CRD schemas (its `strfmt` registry, trimmed to the
//! formats Kubernetes CRDs use); other formats are accepted as kube-apiserver accepts unknown ones.

use serde_json::Value;

fn is_date(s: &str) -> bool {
    s.parse::<jiff::civil::Date>().is_ok() && s.len() == 10
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12]) && parts.iter().all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
}

fn is_hostname(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// The format `value` fails to be (its name, for the message), or `None` when it conforms or the
/// format is not checked.
#[must_use]
pub fn check(format: &str, value: &Value) -> Option<String> {
    let ok = match (format, value) {
        ("int32", Value::Number(n)) => n.as_i64().is_some_and(|v| i32::try_from(v).is_ok()),
        ("int64", Value::Number(n)) => n.as_i64().is_some(),
        (_, Value::String(s)) => match format {
            "date-time" | "datetime" => s.parse::<jiff::Timestamp>().is_ok(),
            "date" => is_date(s),
            "uuid" => is_uuid(s),
            "byte" => {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD.decode(s).is_ok()
            }
            "ipv4" => s.parse::<std::net::Ipv4Addr>().is_ok(),
            "ipv6" => s.parse::<std::net::Ipv6Addr>().is_ok(),
            "hostname" => is_hostname(s),
            "email" => s
                .split_once('@')
                .is_some_and(|(user, host)| !user.is_empty() && is_hostname(host)),
            "duration" => crds::duration::parse(s).is_ok(),
            _ => true,
        },
        _ => true,
    };
    (!ok).then(|| format.to_owned())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn checked_formats_accept_good_values_and_name_bad_ones() {
        let good = [
            ("date-time", json!("2026-01-02T03:04:05Z")),
            ("date", json!("2026-01-02")),
            ("uuid", json!("123e4567-e89b-12d3-a456-426614174000")),
            ("byte", json!("aGVsbG8=")),
            ("ipv4", json!("10.0.0.1")),
            ("ipv6", json!("::1")),
            ("hostname", json!("api.example.com")),
            ("duration", json!("1m30s")),
            ("int32", json!(7)),
            ("anything-else", json!("x")),
        ];
        for (format, value) in good {
            assert_eq!(check(format, &value), None, "{format} {value}");
        }
        let bad = [
            ("date-time", json!("yesterday")),
            ("date", json!("2026-13-40")),
            ("uuid", json!("nope")),
            ("byte", json!("***")),
            ("ipv4", json!("10.0.0")),
            ("hostname", json!("-bad-")),
            ("duration", json!("forever")),
            ("int32", json!(5_000_000_000_i64)),
        ];
        for (format, value) in bad {
            assert_eq!(check(format, &value).as_deref(), Some(format), "{format} {value}");
        }
    }
}
