//! Kubernetes JSONPath (`{$.data.ok}`, `{.items[0].value}`) as the web provider's `jsonPath`,
//! evaluated with `jsonpath-rust`; the first match is the result, as in Argo.

use jsonpath_rust::JsonPath as _;

/// Converts a Kubernetes JSONPath template holding one expression to a standard JSONPath.
fn to_standard(path: &str) -> Result<String, String> {
    let trimmed = path.trim();
    let inner = trimmed
        .strip_prefix('{')
        .and_then(|p| p.strip_suffix('}'))
        .ok_or_else(|| format!("jsonPath {path:?} must be one expression in braces, e.g. {{$.data.value}}"))?
        .trim();
    Ok(if inner.starts_with('$') {
        inner.to_string()
    } else if inner.starts_with('.') || inner.starts_with('[') {
        format!("${inner}")
    } else {
        format!("$.{inner}")
    })
}

/// The first value `path` selects in `document`.
///
/// # Errors
/// An invalid path, or one that selects nothing.
pub(crate) fn select(document: &serde_json::Value, path: &str) -> Result<serde_json::Value, String> {
    let standard = to_standard(path)?;
    let found = document
        .query(&standard)
        .map_err(|e| format!("invalid jsonPath {path:?}: {e}"))?;
    found
        .first()
        .map(|v| (*v).clone())
        .ok_or_else(|| format!("result of jsonPath {path:?} was not found"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::select;

    #[test]
    fn kubernetes_paths() {
        let doc = json!({"major": "1", "data": {"items": [{"v": 1}, {"v": 2}], "ok": true}});
        assert_eq!(select(&doc, "{$}"), Ok(doc.clone()));
        assert_eq!(select(&doc, "{$.major}"), Ok(json!("1")));
        assert_eq!(select(&doc, "{.data.ok}"), Ok(json!(true)));
        assert_eq!(select(&doc, "{.data.items[1].v}"), Ok(json!(2)));
        assert_eq!(select(&doc, "{.data.items[*].v}"), Ok(json!(1)));
        assert_eq!(select(&doc, "{.data.items[?(@.v == 2)].v}"), Ok(json!(2)));
        assert!(select(&doc, "{.nope}").unwrap_err().contains("was not found"));
        assert!(select(&doc, ".major").unwrap_err().contains("in braces"));
    }
}
