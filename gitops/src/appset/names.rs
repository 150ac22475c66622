//! Argo's name normalisation (`utils.SanitizeName`), for `nameNormalized`,
//! `path.basenameNormalized` and `path.filenameNormalized`: lower case, every character a DNS-1123
//! subdomain cannot hold replaced by `-`, at most 253 characters, no leading or trailing `-`/`.`.

/// `name` normalised.
#[must_use]
pub fn normalized(name: &str) -> String {
    let mapped: String = name
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .take(253)
        .collect();
    mapped.trim_matches(|c| c == '-' || c == '.').to_owned()
}

/// Whether `name` is a valid Application name (a DNS-1123 subdomain).
#[must_use]
pub fn valid(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalized_as_argo_does() {
        for (raw, want) in [
            ("directory_2", "directory-2"),
            ("In-Cluster", "in-cluster"),
            ("prod.eu/west", "prod.eu-west"),
            ("_edge_", "edge"),
        ] {
            assert_eq!(normalized(raw), want, "{raw}");
        }
        assert!(valid("api-production"));
        assert!(!valid("Api"));
        assert!(!valid("{{service}}"));
        assert!(!valid(""));
    }
}
