//! Conformance table for the condition language: (expression, result, expected outcome), with
//! the idioms of Argo's documentation and the error cases with their messages.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use analysis::assess::Conditions;
use analysis::condition::{Condition, ResultValue};
use crds::analysis::AnalysisPhase;
use serde_json::json;

/// What evaluating a row must give.
enum Want {
    True,
    False,
    /// An evaluation error whose message contains every fragment.
    Err(&'static [&'static str]),
}
use Want::{Err, False, True};

fn v(values: &[f64]) -> ResultValue {
    ResultValue::Vector(values.to_vec())
}

fn rows() -> Vec<(&'static str, ResultValue, Want)> {
    let nan = f64::NAN;
    let version = ResultValue::Json(json!({"major": "1", "minor": "33", "gitVersion": "v1.33.0"}));
    vec![
        // Prometheus vectors.
        ("result[0] >= 0.95", v(&[0.97]), True),
        ("result[0] >= 0.95", v(&[0.80]), False),
        ("result[0] >= 0.95", v(&[0.95]), True),
        (
            "result[0] >= 0.95",
            v(&[]),
            Err(&["result []", "empty list", "len(result) > 0"]),
        ),
        ("len(result) > 0 && result[0] < 0.05", v(&[]), False),
        ("len(result) > 0 && result[0] < 0.05", v(&[0.01]), True),
        ("len(result) == 0 || result[0] >= 0.95", v(&[]), True),
        ("all(result, {# > 0.9})", v(&[0.97, 0.95]), True),
        ("all(result, {# > 0.9})", v(&[0.97, 0.85]), False),
        ("all(result, {# > 0.9})", v(&[]), True),
        ("any(result, {# < 0.9})", v(&[0.97, 0.85]), True),
        ("any(result, {# < 0.9})", v(&[0.97, 0.95]), False),
        ("none(result, {# < 0.5})", v(&[0.97]), True),
        ("len(filter(result, {# > 0.9})) == 2", v(&[0.97, 0.85, 0.99]), True),
        ("sum(result) / len(result) >= 0.9", v(&[0.97, 0.85]), True),
        ("max(result) < 1 && min(result) > 0", v(&[0.97, 0.85]), True),
        ("result[-1] == 0.85", v(&[0.97, 0.85]), True),
        ("isNaN(result[0])", v(&[nan]), True),
        ("isNaN(result[0])", v(&[0.5]), False),
        ("isNaN(result[0]) || result[0] >= 0.95", v(&[nan]), True),
        ("result[0] >= 0.95", v(&[nan]), False),
        ("result[0] < 0.95", v(&[nan]), False),
        ("default(result[0], 0) >= 1", v(&[]), False),
        ("default(result[0], 0) >= 1", v(&[2.0]), True),
        ("default(result[0], 1) >= 1", v(&[]), True),
        ("isInf(result[0])", v(&[f64::INFINITY]), True),
        // Prometheus scalars.
        ("result >= 0.95", ResultValue::Scalar(0.97), True),
        ("result == 1", ResultValue::Scalar(1.0), True),
        ("isNaN(result) || result >= 0.95", ResultValue::Scalar(nan), True),
        ("result >= 0.95", ResultValue::Scalar(nan), False),
        ("asInt(result) == 3", ResultValue::Scalar(3.7), True),
        ("result > 0.5 ? true : false", ResultValue::Scalar(0.7), True),
        ("result >= 0.9 and not (result > 1)", ResultValue::Scalar(0.95), True),
        ("abs(result) < 0.1", ResultValue::Scalar(-0.05), True),
        // Nil (no data).
        ("isNil(result)", ResultValue::Nil, True),
        ("default(result, 0) < 0.05", ResultValue::Nil, True),
        ("default(result, 0) < 0.05", ResultValue::Scalar(0.5), False),
        ("result > 1", ResultValue::Nil, Err(&["result <nil>", "isNil(result)"])),
        // Web: JSON and text.
        ("result.major == '1'", version.clone(), True),
        ("result.major == \"2\"", version.clone(), False),
        ("asInt(result.minor) >= 30", version.clone(), True),
        ("result.gitVersion startsWith 'v1.'", version.clone(), True),
        ("result.gitVersion matches '^v1\\\\.[0-9]+'", version.clone(), True),
        ("result.missing == nil", version.clone(), True),
        ("result == 'true'", ResultValue::Text("true".into()), True),
        ("result == 'true'", ResultValue::Json(json!(true)), False),
        ("result == true", ResultValue::Json(json!(true)), True),
        ("result contains 'ok'", ResultValue::Text("all ok".into()), True),
        ("asFloat(result) > 0.5", ResultValue::Text("0.75".into()), True),
        ("result.data.ok", ResultValue::Json(json!({"data": {"ok": true}})), True),
        (
            "result.items[1].ready",
            ResultValue::Json(json!({"items": [{"ready": false}, {"ready": true}]})),
            True,
        ),
        (
            "len(result.items) == 2",
            ResultValue::Json(json!({"items": [1, 2]})),
            True,
        ),
        // Errors: types, arity, non-boolean results.
        (
            "result >= 'a'",
            ResultValue::Scalar(1.0),
            Err(&["Invalid operands for operator >="]),
        ),
        (
            "result + 1",
            ResultValue::Scalar(1.0),
            Err(&["must return a bool", "float 2"]),
        ),
        ("result[0]", v(&[0.5]), Err(&["must return a bool", "float 0.5"])),
        (
            "asInt(result)",
            ResultValue::Text("abc".into()),
            Err(&["asInt: \"abc\" is not an integer"]),
        ),
        (
            "asFloat(result) > 1",
            ResultValue::Json(json!([1])),
            Err(&["asFloat: expects a number", "got list"]),
        ),
        ("isNaN(result)", v(&[0.5]), Err(&["isNaN expects a number, got list"])),
        (
            "default(result)",
            ResultValue::Nil,
            Err(&["default expects 2 argument(s), got 1"]),
        ),
        ("result.major > 1", version, Err(&["Invalid operands for operator >"])),
    ]
}

#[test]
fn conformance_table() {
    let rows = rows();
    assert!(rows.len() >= 40, "the table has {} rows", rows.len());
    let mut failures = Vec::new();
    for (expression, result, want) in rows {
        let condition = Condition::parse(expression).unwrap_or_else(|e| panic!("{expression}: {e}"));
        let got = condition.evaluate(&result);
        let ok = match (&want, &got) {
            (True, Ok(true)) | (False, Ok(false)) => true,
            (Err(fragments), Result::Err(error)) => {
                let message = error.to_string();
                fragments.iter().all(|f| message.contains(f))
            }
            _ => false,
        };
        if !ok {
            failures.push(format!("{expression} on {}: got {got:?}", result.render()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} rows disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn syntax_errors_show_the_expression_and_the_position() {
    for (expression, line, column) in [
        ("result[", 1, 8),
        ("result >= 0.95 &&", 1, 18),
        ("all(result, {# > 0.9}", 1, 21),
        ("result >= 0.95\n  && result <", 2, 14),
    ] {
        let error = Condition::parse(expression).unwrap_err().to_string();
        let want = format!("cannot parse {expression:?} at line {line} column {column}: expected");
        assert!(error.starts_with(&want), "{expression:?}: {error}");
    }
}

/// Measurement outcome rules: only success set, only failure set, both, neither.
#[test]
fn measurement_outcomes_follow_argo() {
    use AnalysisPhase::{Error, Failed, Inconclusive, Successful};
    let high = ResultValue::Scalar(0.99);
    let mid = ResultValue::Scalar(0.5);
    let low = ResultValue::Scalar(0.01);
    let cases: &[(Option<&str>, Option<&str>, &ResultValue, AnalysisPhase)] = &[
        (None, None, &low, Successful),
        (Some("result > 0.9"), None, &high, Successful),
        (Some("result > 0.9"), None, &mid, Failed),
        (None, Some("result < 0.1"), &mid, Successful),
        (None, Some("result < 0.1"), &low, Failed),
        (Some("result > 0.9"), Some("result < 0.1"), &high, Successful),
        (Some("result > 0.9"), Some("result < 0.1"), &low, Failed),
        (Some("result > 0.9"), Some("result < 0.1"), &mid, Inconclusive),
        // Both true: failure wins.
        (Some("result > 0"), Some("result < 1"), &mid, Failed),
        (Some("result[0] > 0.9"), None, &ResultValue::Vector(vec![]), Error),
        (Some(""), Some("  "), &low, Successful),
    ];
    for (success, failure, result, want) in cases {
        let conditions = Conditions::parse(*success, *failure).unwrap();
        let got = conditions.assess(result).unwrap_or(Error);
        assert_eq!(
            got,
            *want,
            "success {success:?} failure {failure:?} on {}",
            result.render()
        );
    }
}

#[test]
fn a_bad_condition_names_its_field() {
    let (field, error) = Conditions::parse(Some("result > 1"), Some("result <")).unwrap_err();
    assert_eq!(field, "failureCondition");
    assert!(error.to_string().contains("column 9"), "{error}");
}
