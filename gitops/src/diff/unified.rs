//! The unified diff `kubectl sluice app diff` prints (as `argocd app diff` does): desired and
//! live as YAML, with `similar` computing the hunks.

use serde_json::Value;

/// A unified diff from `live` to `desired`, each shown as YAML with the ignored fields removed;
/// empty when they are the same.
#[must_use]
pub fn unified(name: &str, live: Option<&Value>, desired: Option<&Value>) -> String {
    let yaml = |v: Option<&Value>| {
        v.map(|v| crds::yaml::to_string(v).unwrap_or_default())
            .unwrap_or_default()
    };
    let (old, new) = (yaml(live), yaml(desired));
    if old == new {
        return String::new();
    }
    similar::TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("live/{name}"), &format!("desired/{name}"))
        .to_string()
}
