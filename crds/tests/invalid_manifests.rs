//! Invalid manifests in `tests/invalid/` report exactly the problems their `# expect:` lines list
//! (`# expect-error:` for documents that do not even decode). `kubectl sluice lint` reuses them.
// Test code: a failed unwrap is a failed test, which is what it should be.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::Path;

use support::{documents, yaml_files};

struct Expectation {
    problems: Vec<String>,
    decode_error: Option<String>,
}

fn expectation(path: &Path) -> Expectation {
    let text = std::fs::read_to_string(path).unwrap();
    let line_after = |prefix: &str| -> Vec<String> {
        text.lines()
            .filter_map(|l| l.strip_prefix(prefix))
            .map(|s| s.trim().to_owned())
            .collect()
    };
    Expectation {
        problems: line_after("# expect:"),
        decode_error: line_after("# expect-error:").into_iter().next(),
    }
}

#[test]
fn each_invalid_manifest_reports_exactly_its_expected_problems() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid");
    let files = yaml_files(&dir);
    assert!(
        files.len() >= 15,
        "at least 15 invalid manifests are required, found {}",
        files.len()
    );
    for path in files {
        let expected = expectation(&path);
        assert!(
            !expected.problems.is_empty() || expected.decode_error.is_some(),
            "{}: no `# expect:` lines",
            path.display()
        );
        let mut problems = Vec::new();
        let mut decode_error = None;
        for doc in documents(&path) {
            match crds::validation::validate_document(&doc) {
                Ok(Some(found)) => problems.extend(found.iter().map(ToString::to_string)),
                Ok(None) => {}
                Err(e) => decode_error = Some(e.to_string()),
            }
        }
        let mut want = expected.problems.clone();
        want.sort();
        problems.sort();
        assert_eq!(problems, want, "{}", path.display());
        assert_eq!(decode_error, expected.decode_error, "{}", path.display());
    }
}
