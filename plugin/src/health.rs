//! `kubectl sluice health -f FILE|-`: the health Sluice (and Argo CD) gives objects, assessed
//! offline by the same rules the controller uses (`gitops::health`), to answer "why is my app
//! Progressing?" from `kubectl get ... -o yaml`.

use std::io::{Read, Write};

use serde_json::Value;

/// Why the objects could not be read.
#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    /// The file cannot be read.
    #[error("cannot read {file}: {source}")]
    Read {
        /// The file.
        file: String,
        /// The IO error.
        source: std::io::Error,
    },
    /// A document is not YAML or JSON.
    #[error("{file}: document {index} is not valid YAML: {message}")]
    Parse {
        /// The file.
        file: String,
        /// 1-based document number.
        index: usize,
        /// The parser's message.
        message: String,
    },
}

/// One line for an object: `STATUS`, `STATUS - MESSAGE`, or `none - no health check for GROUP/KIND`.
#[must_use]
pub fn line(object: &Value) -> String {
    match gitops::health::judge(object) {
        Some(h) if h.message.is_empty() => h.status.to_string(),
        Some(h) => format!("{} - {}", h.status, h.message),
        None => {
            let api_version = object.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
            let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
            let kind = object.get("kind").and_then(Value::as_str).unwrap_or_default();
            format!("none - no health check for {group}/{kind}")
        }
    }
}

/// The objects of a YAML or JSON stream; a `List` (what `kubectl get -o yaml` prints for several
/// objects) stands for its items.
///
/// # Errors
/// A document that is not YAML.
pub fn objects(text: &str, file: &str) -> Result<Vec<Value>, HealthError> {
    let mut all = Vec::new();
    for doc in crds::yaml::documents(text) {
        let value = doc.value.map_err(|e| HealthError::Parse {
            file: file.to_owned(),
            index: doc.number,
            message: e.to_string(),
        })?;
        match value.get("items").and_then(Value::as_array) {
            Some(items)
                if value
                    .get("kind")
                    .and_then(Value::as_str)
                    .is_some_and(|k| k.ends_with("List")) =>
            {
                all.extend(items.iter().cloned());
            }
            _ if value.is_null() => {}
            _ => all.push(value),
        }
    }
    Ok(all)
}

/// Prints the health of every object in `files`: one line for a single object, else one line
/// per object prefixed `Kind/name: `.
///
/// # Errors
/// A file that cannot be read or parsed.
pub fn run(files: &[String], out: &mut impl Write) -> Result<(), HealthError> {
    let mut all = Vec::new();
    for file in files {
        let text = if file == "-" {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).map(|_| text)
        } else {
            std::fs::read_to_string(file)
        }
        .map_err(|source| HealthError::Read {
            file: file.clone(),
            source,
        })?;
        all.extend(objects(&text, file)?);
    }
    for object in &all {
        let text = line(object);
        let shown = if all.len() == 1 {
            text
        } else {
            let kind = object.get("kind").and_then(Value::as_str).unwrap_or_default();
            let name = object
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            format!("{kind}/{name}: {text}")
        };
        // A closed stdout is not worth a panic.
        let _ = writeln!(out, "{shown}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_object_is_one_line_and_several_are_named() {
        let paused = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {paused: true}\n";
        let objects = objects(paused, "x").unwrap();
        assert_eq!(line(&objects[0]), "Suspended - Deployment is paused");
        let config = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap"});
        assert_eq!(line(&config), "none - no health check for /ConfigMap");
        let list = "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Service, metadata: {name: a}}\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n";
        let mut out = Vec::new();
        let dir = std::env::temp_dir().join(format!("sluice-health-{}", std::process::id()));
        std::fs::write(&dir, list).unwrap();
        run(&[dir.display().to_string()], &mut out).unwrap();
        let _ = std::fs::remove_file(&dir);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "Service/a: Healthy\nConfigMap/b: none - no health check for /ConfigMap\n"
        );
    }
}
