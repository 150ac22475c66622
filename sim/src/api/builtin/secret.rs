//! Secrets: `stringData` folded into `data` on decoding (`Convert_v1_Secret_To_core_Secret`: a key
//! of `stringData` wins), `data` values as base64, and `ValidateSecret`: key names, the 1 MiB
//! limit and the required keys of the typed Secrets.

use base64::Engine as _;
use serde_json::{Map, Value};

use super::super::status::{ApiError, Cause};
use super::{config_map_key, gojson, quoted};

/// `core.MaxSecretSize`.
const MAX_SIZE: usize = 1024 * 1024;

/// The byte where Go's `base64.StdEncoding` gives up on `text`, if it does.
fn base64_error(text: &str) -> Option<usize> {
    let clean: String = text.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
    if base64::engine::general_purpose::STANDARD.decode(&clean).is_ok() {
        return None;
    }
    let bad = text
        .bytes()
        .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'\r' | b'\n')));
    Some(bad.unwrap_or_else(|| text.len() / 4 * 4))
}

pub(super) fn decode(obj: &mut Value) -> Result<(), ApiError> {
    let Some(map) = obj.as_object_mut() else { return Ok(()) };
    for value in map
        .get("data")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(Map::values)
    {
        if let Some(at) = value.as_str().and_then(base64_error) {
            return Err(ApiError::bad_request(format!(
                "Secret in version \"v1\" cannot be handled as a Secret: illegal base64 data at input byte {at}"
            )));
        }
    }
    if let Some(Value::Object(strings)) = map.remove("stringData") {
        let data = map.entry("data").or_insert_with(|| Value::Object(Map::new()));
        if let Some(data) = data.as_object_mut() {
            for (key, value) in strings {
                let text = value.as_str().unwrap_or_default();
                let encoded = base64::engine::general_purpose::STANDARD.encode(text);
                data.insert(key, Value::String(encoded));
            }
        }
    }
    Ok(())
}

fn data(obj: &Value) -> Vec<(String, Vec<u8>)> {
    obj.get("data")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(v.as_str().unwrap_or_default())
                .unwrap_or_default();
            (k.clone(), bytes)
        })
        .collect()
}

fn required(field: String) -> Cause {
    Cause::new("FieldValueRequired", field, "Required value")
}

pub(super) fn validate(obj: &Value) -> Vec<Cause> {
    let mut causes = Vec::new();
    let data = data(obj);
    let mut keys: Vec<&(String, Vec<u8>)> = data.iter().collect();
    keys.sort_by(|a, b| a.0.cmp(&b.0));
    for (key, _) in &keys {
        for problem in config_map_key(key) {
            causes.push(Cause::new(
                "FieldValueInvalid",
                format!("data[{key}]"),
                format!("Invalid value: {}: {problem}", quoted(key)),
            ));
        }
    }
    if data.iter().map(|(_, v)| v.len()).sum::<usize>() > MAX_SIZE {
        causes.push(Cause::new(
            "FieldValueTooLong",
            "data".to_owned(),
            format!("Too long: must have at most {MAX_SIZE} bytes"),
        ));
    }
    let has = |key: &str| data.iter().any(|(k, _)| k == key);
    let value = |key: &str| data.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_slice());
    match obj.get("type").and_then(Value::as_str).unwrap_or_default() {
        "kubernetes.io/service-account-token" => {
            let named = obj
                .pointer("/metadata/annotations/kubernetes.io~1service-account.name")
                .and_then(Value::as_str)
                .is_some_and(|n| !n.is_empty());
            if !named {
                causes.push(required(
                    "metadata.annotations[kubernetes.io/service-account.name]".to_owned(),
                ));
            }
        }
        kind @ ("kubernetes.io/dockercfg" | "kubernetes.io/dockerconfigjson") => {
            let key = if kind.ends_with("json") {
                ".dockerconfigjson"
            } else {
                ".dockercfg"
            };
            match value(key) {
                None => causes.push(required(format!("data[{key}]"))),
                Some(bytes) => {
                    if let Some(error) = gojson::object_error(bytes) {
                        causes.push(Cause::new(
                            "FieldValueInvalid",
                            format!("data[{key}]"),
                            format!("Invalid value: \"<secret contents redacted>\": {error}"),
                        ));
                    }
                }
            }
        }
        "kubernetes.io/basic-auth" if !has("username") && !has("password") => {
            causes.push(required("data[username]".to_owned()));
            causes.push(required("data[password]".to_owned()));
        }
        "kubernetes.io/ssh-auth" if value("ssh-privatekey").is_none_or(<[u8]>::is_empty) => {
            causes.push(required("data[ssh-privatekey]".to_owned()));
        }
        "kubernetes.io/tls" => {
            for key in ["tls.crt", "tls.key"] {
                if !has(key) {
                    causes.push(required(format!("data[{key}]")));
                }
            }
        }
        _ => {}
    }
    causes
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn string_data_is_folded_and_wins() {
        let mut secret = json!({"data": {"k": "ZnJvbS1kYXRh"}, "stringData": {"k": "from-stringData", "u": "admin"}});
        decode(&mut secret).unwrap();
        assert_eq!(secret, json!({"data": {"k": "ZnJvbS1zdHJpbmdEYXRh", "u": "YWRtaW4="}}));
    }

    #[test]
    fn base64_errors_name_the_byte_as_go_does() {
        assert_eq!(base64_error("not base64!"), Some(3));
        assert_eq!(base64_error("YWJj"), None);
    }

    #[test]
    fn typed_secrets_require_their_keys() {
        let tls = json!({"type": "kubernetes.io/tls", "data": {"tls.crt": "eA=="}});
        let causes = validate(&tls);
        assert_eq!(causes, vec![required("data[tls.key]".to_owned())]);
        let bad_key = json!({"data": {"bad/key": "eA=="}});
        assert_eq!(validate(&bad_key)[0].field, "data[bad/key]");
    }
}
