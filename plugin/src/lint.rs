//! `kubectl sluice lint -f FILE`: offline validation with the same messages the controller reports.

use std::io::{Read, Write};
use std::process::ExitCode;

/// Lints every file and prints one line per problem; returns failure when any file has one.
pub fn run(files: &[String], out: &mut impl Write) -> ExitCode {
    let mut problems = 0usize;
    let mut checked = 0usize;
    for file in files {
        let (found, docs) = lint_file(file, out);
        problems += found;
        checked += docs;
    }
    let summary = if problems == 0 {
        format!("{checked} document(s) checked, no problems")
    } else {
        format!("{checked} document(s) checked, {problems} problem(s)")
    };
    if writeln!(out, "{summary}").is_err() {
        return ExitCode::FAILURE;
    }
    if problems == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn read(file: &str) -> std::io::Result<String> {
    if file == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        Ok(text)
    } else {
        std::fs::read_to_string(file)
    }
}

/// Returns (problems, documents checked) for one file, printing each problem.
fn lint_file(file: &str, out: &mut impl Write) -> (usize, usize) {
    let mut report = |line: String| {
        // A closed stdout must not turn into a panic; the exit code still tells the story.
        let _ = writeln!(out, "{line}");
    };
    let text = match read(file) {
        Ok(text) => text,
        Err(e) => {
            report(format!("{file}: cannot read: {e}"));
            return (1, 0);
        }
    };
    let mut problems = 0;
    let mut checked = 0;
    for doc in crds::yaml::documents(&text) {
        let value = match doc.value {
            Ok(value) => value,
            Err(e) => {
                report(format!("{file}: document {}: not valid YAML: {e}", doc.number));
                problems += 1;
                continue;
            }
        };
        let kind = value["kind"].as_str().unwrap_or("?").to_owned();
        let name = value["metadata"]["name"].as_str().unwrap_or("<unnamed>").to_owned();
        match crds::validation::validate_document(&value) {
            Ok(None) => {}
            Ok(Some(found)) => {
                checked += 1;
                for problem in &found {
                    report(format!("{file}: {kind} {name}: {problem}"));
                }
                problems += found.len();
            }
            Err(e) => {
                checked += 1;
                report(format!("{file}: {e}"));
                problems += 1;
            }
        }
    }
    (problems, checked)
}
