//! Helpers shared by the crds integration tests.
#![allow(dead_code)] // each test binary uses a different subset
#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed assumption is a failed test

use std::path::{Path, PathBuf};

/// `../shared/conformance`, beside the repository.
pub fn conformance_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance");
    assert!(
        dir.is_dir(),
        "conformance data not found at {} (CI checks out shared/ beside the repository)",
        dir.display()
    );
    dir
}

/// Every `.yaml` file under a directory, sorted, recursively.
pub fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The non-empty documents of a multi-document YAML file, as JSON.
pub fn documents(path: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).unwrap();
    crds::yaml::values(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Drops nulls and empty lists, which Kubernetes treats as absent (Go's `omitempty`).
pub fn normalize(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null() && !v.as_array().is_some_and(Vec::is_empty))
                .map(|(k, v)| (k.clone(), normalize(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(normalize).collect()),
        other => other.clone(),
    }
}
