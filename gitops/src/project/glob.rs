//! The two glob dialects of Argo CD projects: repositories and destinations use `util/glob`
//! (gobwas/glob without separators, so `*` crosses `/`), resource kinds and groups use Go's
//! `filepath.Match` (`*` stops at `/`); a leading `!` makes a pattern a denial.

use globset::GlobBuilder;

/// Whether `pattern` (without its `!`) matches `value`; `*` matches across `/` unless
/// `literal_separator`. A pattern that is not a valid glob matches only itself.
#[must_use]
pub fn matches(pattern: &str, value: &str, literal_separator: bool) -> bool {
    if pattern == "*" {
        return true;
    }
    GlobBuilder::new(pattern)
        .literal_separator(literal_separator)
        .backslash_escape(true)
        .build()
        .map_or(pattern == value, |glob| glob.compile_matcher().is_match(value))
}

/// Whether a pattern denies (`!pattern`).
#[must_use]
pub fn is_deny(pattern: &str) -> bool {
    pattern.starts_with('!')
}

/// Argo's `globMatch` with negation allowed: a deny pattern holds when the value does not match
/// what follows the `!`.
#[must_use]
pub fn holds(pattern: &str, value: &str) -> bool {
    match pattern.strip_prefix('!') {
        Some(denied) => !matches(denied, value, false),
        None => matches(pattern, value, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_two_dialects_and_negation() {
        assert!(matches(
            "https://github.com/myorg/*",
            "https://github.com/myorg/team/repo",
            false
        ));
        assert!(matches("*", "anything/at/all", true), "a lone * matches everything");
        assert!(matches("team-*", "team-a", false));
        assert!(!matches("team-*", "other", false));
        assert!(matches("*.example.com", "apps.example.com", true));
        assert!(!matches("a*", "a/b", true), "filepath.Match: * stops at /");
        assert!(matches("{staging,production}", "staging", false));
        assert!(holds("!kube-system", "default"));
        assert!(!holds("!kube-system", "kube-system"));
        assert!(is_deny("!x") && !is_deny("x"));
    }
}
