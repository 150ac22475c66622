//! Reading manifests: multi-document YAML (through `crds::yaml`, so every error carries the line of
//! the file it comes from) and JSON, `kind: List` unwrapped, empty documents skipped, and every
//! object checked for `apiVersion`, `kind` and a name.

use std::collections::HashMap;

use serde_json::Value;

use super::RenderError;

/// An object and where it was read.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Document {
    /// The object.
    pub object: Value,
    /// `file:line`.
    pub origin: String,
}

/// The objects of one manifest file (`file` names it in errors).
pub fn parse_documents(file: &str, text: &str) -> Result<Vec<Value>, RenderError> {
    Ok(parse(file, text)?.into_iter().map(|d| d.object).collect())
}

pub(super) fn parse(file: &str, text: &str) -> Result<Vec<Document>, RenderError> {
    if file.ends_with(".json") {
        let value: Value = serde_json::from_str(text).map_err(|e| RenderError::Manifest {
            file: file.to_owned(),
            line: e.line(),
            reason: e.to_string(),
        })?;
        let mut out = Vec::new();
        push(file, 1, value, &mut out)?;
        return Ok(out);
    }
    let mut out = Vec::new();
    for document in crds::yaml::documents(text) {
        let value = document.value.map_err(|e| RenderError::Manifest {
            file: file.to_owned(),
            line: e.line,
            reason: e.message,
        })?;
        push(file, document.line, value, &mut out)?;
    }
    Ok(out)
}

fn push(file: &str, line: usize, value: Value, out: &mut Vec<Document>) -> Result<(), RenderError> {
    let bad = |reason: &str| RenderError::Manifest {
        file: file.to_owned(),
        line,
        reason: reason.to_owned(),
    };
    match value {
        Value::Null => Ok(()),
        Value::Object(_) if value.get("kind").and_then(Value::as_str) == Some("List") => {
            for item in value
                .get("items")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
            {
                push(file, line, item, out)?;
            }
            Ok(())
        }
        Value::Object(_) => {
            let text = |p: &str| value.pointer(p).and_then(Value::as_str).filter(|s| !s.is_empty());
            if text("/apiVersion").is_none() {
                return Err(bad("the object has no apiVersion"));
            }
            if text("/kind").is_none() {
                return Err(bad("the object has no kind"));
            }
            if text("/metadata/name").is_none() && text("/metadata/generateName").is_none() {
                return Err(bad("the object has no metadata.name"));
            }
            out.push(Document {
                object: value,
                origin: format!("{file}:{line}"),
            });
            Ok(())
        }
        _ => Err(bad("a manifest must be an object")),
    }
}

/// Refuses two documents declaring the same object (objects named by `generateName` are unique
/// by construction).
pub(super) fn check_unique_documents(docs: &[Document]) -> Result<(), RenderError> {
    let mut seen: HashMap<String, &str> = HashMap::new();
    for doc in docs {
        let o = &doc.object;
        let text = |p: &str| o.pointer(p).and_then(Value::as_str).unwrap_or_default();
        if text("/metadata/name").is_empty() {
            continue;
        }
        let group = text("/apiVersion").rsplit_once('/').map_or("", |(g, _)| g);
        let key = format!(
            "{group}/{} {}/{}",
            text("/kind"),
            text("/metadata/namespace"),
            text("/metadata/name")
        );
        if let Some(first) = seen.get(&key) {
            return Err(RenderError::Duplicate {
                object: key,
                first: (*first).to_owned(),
                second: doc.origin.clone(),
            });
        }
        seen.insert(key, &doc.origin);
    }
    Ok(())
}

/// [`check_unique_documents`] for objects without origins.
pub(super) fn check_unique(objects: &[Value]) -> Result<(), RenderError> {
    let docs: Vec<Document> = objects
        .iter()
        .enumerate()
        .map(|(i, o)| Document {
            object: o.clone(),
            origin: format!("document {}", i + 1),
        })
        .collect();
    check_unique_documents(&docs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_lists_and_errors_with_lines() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n# empty\n---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: b}\n";
        let docs = parse("a.yaml", text).unwrap_or_default();
        let names: Vec<_> = docs.iter().map(|d| d.object["metadata"]["name"].clone()).collect();
        assert_eq!(names, vec![Value::from("a"), Value::from("b")]);
        assert_eq!(docs[1].origin, "a.yaml:8");
        let broken = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: [unclosed\n";
        match parse("b.yaml", broken) {
            // The unclosed flow sequence is reported where it opens: line 7 of the file.
            Err(RenderError::Manifest { file, line, .. }) => assert_eq!((file.as_str(), line), ("b.yaml", 7)),
            other => unreachable!("{other:?}"),
        }
        let nameless = "apiVersion: v1\nkind: ConfigMap\n";
        assert_eq!(
            parse("c.yaml", nameless).map(|_| ()),
            Err(RenderError::Manifest {
                file: "c.yaml".into(),
                line: 1,
                reason: "the object has no metadata.name".into()
            })
        );
    }

    #[test]
    fn duplicates_name_both_places() {
        let one = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n";
        let mut docs = parse("x.yaml", one).unwrap_or_default();
        docs.extend(parse("y.yaml", one).unwrap_or_default());
        assert_eq!(
            check_unique_documents(&docs).map_err(|e| e.to_string()),
            Err("x.yaml:1 and y.yaml:1 both declare /ConfigMap /a".into())
        );
    }
}
