//! Every health vector of `../shared/vectors/health/` (objects with the health Argo assigns them,
//! from gitops-engine's testdata and Argo CD's resource customizations) agrees with Sluice.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use gitops::health::{HealthStatus, assess};
use serde_json::Value;

fn vectors() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors/health");
    assert!(
        dir.is_dir(),
        "health vectors not found at {} (CI checks out shared/ beside the repository)",
        dir.display()
    );
    dir
}

/// The first document of a file. Some vectors repeat a key (written by old tools); Go's YAML keeps
/// the last value, and so does this.
fn yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    let first = crds::yaml::documents(&text).into_iter().next().unwrap();
    first.value.unwrap()
}

fn status(word: &str) -> Option<HealthStatus> {
    Some(match word {
        "Healthy" => HealthStatus::Healthy,
        "Suspended" => HealthStatus::Suspended,
        "Progressing" => HealthStatus::Progressing,
        "Missing" => HealthStatus::Missing,
        "Degraded" => HealthStatus::Degraded,
        "Unknown" => HealthStatus::Unknown,
        _ => return None,
    })
}

/// (folder, case file, expected health, expected message when the vector states one).
fn cases() -> Vec<(PathBuf, String, Option<HealthStatus>, Option<String>)> {
    let root = vectors();
    let mut folders = vec![root.join("builtin")];
    for entry in std::fs::read_dir(root.join("argoproj.io")).unwrap() {
        folders.push(entry.unwrap().path());
    }
    let mut all = Vec::new();
    for folder in folders {
        let expected = yaml(&folder.join("expected.yaml"));
        for case in expected["cases"].as_array().unwrap() {
            let health = case["health"].as_str().unwrap();
            all.push((
                folder.clone(),
                case["file"].as_str().unwrap().to_owned(),
                status(health),
                case.get("message").and_then(Value::as_str).map(str::to_owned),
            ));
        }
    }
    all
}

#[test]
fn every_health_vector_agrees() {
    let cases = cases();
    assert!(cases.len() >= 60, "only {} vectors found", cases.len());
    let mut wrong = Vec::new();
    for (folder, file, health, message) in &cases {
        let object = yaml(&folder.join(file));
        let got = assess(&object);
        let ok = match (health, &got) {
            (None, None) => true,
            (Some(want), Some(have)) => have.status == *want && message.as_ref().is_none_or(|m| *m == have.message),
            _ => false,
        };
        if !ok {
            wrong.push(format!(
                "{}/{file}: expected {health:?} {message:?}, got {got:?}",
                folder.display()
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} vectors disagree:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
}
