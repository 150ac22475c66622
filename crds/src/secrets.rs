//! Reading a Secret's fields, the one way every part of Sluice does it: `data` (bytes), with a
//! `stringData` key winning over the same key of `data`, as kube-apiserver folds them when it
//! stores the Secret (a Secret read back from the API server has only `data`; one read from a
//! manifest may have both).

use k8s_openapi::api::core::v1::Secret;

/// Every field of `secret` as bytes: the `stringData` keys, then the `data` keys `stringData`
/// does not override.
pub fn fields(secret: &Secret) -> impl Iterator<Item = (&str, &[u8])> {
    let strings = secret
        .string_data
        .iter()
        .flatten()
        .map(|(k, v)| (k.as_str(), v.as_bytes()));
    let data = secret
        .data
        .iter()
        .flatten()
        .filter(move |(k, _)| secret.string_data.as_ref().is_none_or(|s| !s.contains_key(*k)))
        .map(|(k, v)| (k.as_str(), v.0.as_slice()));
    strings.chain(data)
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
    fn string_data_wins_over_data_and_both_are_read() {
        let secret = Secret {
            data: Some(BTreeMap::from([("a".into(), ByteString(b"from-data".to_vec()))])),
            string_data: Some(BTreeMap::from([
                ("a".into(), "from-string-data".into()),
                ("b".into(), "only-string".into()),
            ])),
            ..Secret::default()
        };
        // kube-apiserver's `stringdata-overrides-data`: the stringData value is what is stored.
        assert_eq!(text(&secret, "a").as_deref(), Some("from-string-data"));
        assert_eq!(text(&secret, "b").as_deref(), Some("only-string"));
        assert_eq!(text(&secret, "c"), None);
        assert_eq!(fields(&secret).count(), 2);
    }
}
