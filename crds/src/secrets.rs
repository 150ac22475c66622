//! Reading a Secret's fields, the one way every part of Sluice does it: `data` (bytes), then
//! `stringData` (what a Secret written by a client still carries before kube-apiserver folds it
//! into `data`, and what the simulator's and some tools' objects hold).

use k8s_openapi::api::core::v1::Secret;

/// Every field of `secret` as bytes: `data` first, then the `stringData` keys `data` lacks.
pub fn fields(secret: &Secret) -> impl Iterator<Item = (&str, &[u8])> {
    let data = secret.data.iter().flatten().map(|(k, v)| (k.as_str(), v.0.as_slice()));
    let strings = secret
        .string_data
        .iter()
        .flatten()
        .filter(move |(k, _)| secret.data.as_ref().is_none_or(|d| !d.contains_key(*k)))
        .map(|(k, v)| (k.as_str(), v.as_bytes()));
    data.chain(strings)
}

/// The field `key` as text (`None` when absent or not UTF-8).
#[must_use]
pub fn text(secret: &Secret, key: &str) -> Option<String> {
    fields(secret)
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| String::from_utf8(v.to_vec()).ok())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use k8s_openapi::ByteString;

    use super::*;

    #[test]
    fn data_wins_over_string_data_and_both_are_read() {
        let secret = Secret {
            data: Some(BTreeMap::from([("a".into(), ByteString(b"from-data".to_vec()))])),
            string_data: Some(BTreeMap::from([
                ("a".into(), "from-string-data".into()),
                ("b".into(), "only-string".into()),
            ])),
            ..Secret::default()
        };
        assert_eq!(text(&secret, "a").as_deref(), Some("from-data"));
        assert_eq!(text(&secret, "b").as_deref(), Some("only-string"));
        assert_eq!(text(&secret, "c"), None);
        assert_eq!(fields(&secret).count(), 2);
    }
}
