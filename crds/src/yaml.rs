//! The workspace's one YAML reader and writer, over `serde-saphyr` (maintained, YAML 1.2 parser,
//! serde both ways). Every part of Sluice that reads or prints YAML (repositories, the plugin, the
//! simulator, the CRD generator, the demo) goes through here, so they all accept the same input.
//!
//! Read as kubectl and kube-apiserver read it (`sigs.k8s.io/yaml`): a duplicate key is not an
//! error, the last one wins; large streams (thousands of manifests in one render) are within the
//! budget. Only `true`/`false` are booleans (YAML 1.2's core schema): `y`, `yes` and `on` stay
//! strings, which is what kubectl sends for the string fields they nearly always fill
//! (`sigs.k8s.io/yaml` keeps a scalar's text where the Go field is a string).
//!
//! A stream is split into documents on its `---` lines by hand, because each document must be
//! parsed on its own: one bad document is reported with its own number and line while the others
//! are still read (the plugin's `lint`, the health check), which a whole-stream parse cannot do.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A YAML text that could not be read or a value that could not be written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    /// The 1-based line of the text where the problem is (0 when unknown).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// One document of a multi-document stream.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    /// Its 1-based position in the stream, empty documents counted.
    pub number: usize,
    /// The 1-based line of the stream its content starts on.
    pub line: usize,
    /// Its value, or why it is not YAML (the error's line is the stream's).
    pub value: Result<Value, YamlError>,
}

/// The options every read uses: duplicate keys, last wins; budgets for large renders.
fn options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_documents = 1_000_000;
    budget.max_nodes = 50_000_000;
    budget.max_events = 100_000_000;
    budget.max_total_scalar_bytes = 1 << 30;
    let mut options = serde_saphyr::Options::default();
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::LastWins;
    options.strict_booleans = true;
    options.with_snippet = false;
    options.budget = Some(budget);
    options
}

fn error(e: &serde_saphyr::Error, first_line: usize) -> YamlError {
    let line = e.location().map_or(0, |l| {
        first_line + usize::try_from(l.line()).unwrap_or(1).saturating_sub(1)
    });
    let message = e.to_string();
    // The parser appends its own position; the line is reported in `line`, relative to the stream.
    let message = message.split(" at line ").next().unwrap_or(&message).trim().to_owned();
    YamlError { line, message }
}

/// Reads one YAML document into `T`.
///
/// # Errors
/// The text is not YAML, or not the shape of `T`.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, YamlError> {
    serde_saphyr::from_str_with_options(text, options()).map_err(|e| error(&e, 1))
}

/// Reads one YAML document from bytes into `T`.
///
/// # Errors
/// The bytes are not UTF-8 YAML, or not the shape of `T`.
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, YamlError> {
    let text = std::str::from_utf8(bytes).map_err(|e| YamlError {
        line: 0,
        message: format!("not UTF-8: {e}"),
    })?;
    from_str(text)
}

/// Every non-empty document of a multi-document stream, each parsed on its own.
#[must_use]
pub fn documents(text: &str) -> Vec<Document> {
    split(text)
        .into_iter()
        .enumerate()
        .filter_map(|(index, (line, chunk))| {
            let value = match serde_saphyr::from_str_with_options::<Option<Value>>(&chunk, options()) {
                Ok(Some(Value::Null) | None) => return None,
                Ok(Some(value)) => Ok(value),
                Err(e) => Err(error(&e, line)),
            };
            Some(Document {
                number: index + 1,
                line,
                value,
            })
        })
        .collect()
}

/// Every non-empty document of a stream, or the first that is not YAML.
///
/// # Errors
/// The first document that cannot be read, with its number.
pub fn values(text: &str) -> Result<Vec<Value>, YamlError> {
    documents(text)
        .into_iter()
        .map(|d| {
            d.value.map_err(|e| YamlError {
                line: e.line,
                message: format!("document {}: {}", d.number, e.message),
            })
        })
        .collect()
}

/// Writes `value` as one YAML document.
///
/// # Errors
/// The value cannot be represented (a map with non-string keys, ...).
pub fn to_string<T: Serialize>(value: &T) -> Result<String, YamlError> {
    serde_saphyr::to_string(value).map_err(|e| YamlError {
        line: 0,
        message: e.to_string(),
    })
}

/// The documents of `text` with the 1-based line each starts on. A `---` line ends a document;
/// whatever follows the marker on its line (`--- {a: 1}`) belongs to the next one.
fn split(text: &str) -> Vec<(usize, String)> {
    let mut docs = Vec::new();
    let mut current = String::new();
    let mut start = 1;
    for (i, line) in text.lines().enumerate() {
        if let Some(rest) = document_start(line) {
            docs.push((start, std::mem::take(&mut current)));
            start = i + 1;
            if rest.trim().is_empty() {
                start = i + 2;
            } else {
                current.push_str(rest);
                current.push('\n');
            }
            continue;
        }
        if line == "..." {
            continue;
        }
        current.push_str(line);
        current.push('\n');
    }
    docs.push((start, current));
    docs
}

/// What follows a document start marker on its line, when `line` is one.
fn document_start(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("---")?;
    (rest.is_empty() || rest.starts_with([' ', '\t'])).then_some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_last_wins_as_kubectl() {
        let value: Value = from_str("a: 1\nb: 2\na: 3\n").unwrap();
        assert_eq!(value, serde_json::json!({"a": 3, "b": 2}));
    }

    #[test]
    fn documents_number_lines_and_isolate_errors() {
        let text = "a: 1\n---\n# nothing\n---\nb: [unclosed\n--- {c: 3}\n...\n";
        let docs = documents(text);
        assert_eq!(docs.len(), 3);
        assert_eq!((docs[0].number, docs[0].line), (1, 1));
        assert_eq!(docs[0].value, Ok(serde_json::json!({"a": 1})));
        assert_eq!((docs[1].number, docs[1].line), (3, 5));
        let bad = docs[1].value.clone().unwrap_err();
        assert!(bad.line >= 5, "{bad:?}");
        assert_eq!((docs[2].number, docs[2].line), (4, 6));
        assert_eq!(docs[2].value, Ok(serde_json::json!({"c": 3})));
        assert!(values(text).unwrap_err().message.starts_with("document 3: "));
    }

    #[test]
    fn only_true_and_false_are_booleans() {
        let value: Value = from_str("a: y\nb: yes\nc: on\nd: true\n").unwrap();
        assert_eq!(value, serde_json::json!({"a": "y", "b": "yes", "c": "on", "d": true}));
    }

    #[test]
    fn round_trip() {
        let value = serde_json::json!({"kind": "ConfigMap", "data": {"k": "multi\nline", "n": "1"}});
        let text = to_string(&value).unwrap();
        assert_eq!(from_str::<Value>(&text).unwrap(), value);
    }
}
