//! Argo's condition language: `successCondition` / `failureCondition` expressions over `result`,
//! parsed once with the `expr-lang` crate and evaluated per measurement.

mod helpers;
mod value;

use std::sync::LazyLock;

use expr::{Context, Environment, Program};

pub use value::{ResultValue, describe};

/// The environment every condition runs in: expr's built-ins plus Argo's helpers.
static ENVIRONMENT: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    helpers::register(&mut env);
    env
});

/// A condition that does not parse or cannot be evaluated.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConditionError {
    /// The expression is not valid syntax; the message shows where.
    #[error("cannot parse {expression:?} at line {line} column {column}: {reason}")]
    Syntax {
        /// The expression as written.
        expression: String,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What the parser expected.
        reason: String,
    },
    /// Evaluation failed (wrong types, missing data); the message explains the result it saw.
    #[error("{expression:?} could not be evaluated on result {result}: {reason}{hint}")]
    Evaluation {
        /// The expression as written.
        expression: String,
        /// The result, rendered.
        result: String,
        /// The evaluator's message.
        reason: String,
        /// Why it probably happened (empty or NaN data), or empty.
        hint: String,
    },
    /// The expression did not produce a boolean.
    #[error("{expression:?} must return a bool, but returned {returned}")]
    NotABool {
        /// The expression as written.
        expression: String,
        /// What it returned.
        returned: String,
    },
}

/// A parsed condition.
#[derive(Clone, Debug)]
pub struct Condition {
    source: String,
    program: Program,
}

impl Condition {
    /// Parses `expression`.
    ///
    /// # Errors
    /// [`ConditionError::Syntax`] naming the position of the problem.
    pub fn parse(expression: &str) -> Result<Self, ConditionError> {
        match expr::compile(expression) {
            Ok(program) => Ok(Self {
                source: expression.to_string(),
                program,
            }),
            Err(error) => Err(syntax_error(expression, &error)),
        }
    }

    /// The expression as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates the condition with `result` bound to the measurement's value.
    ///
    /// # Errors
    /// [`ConditionError::Evaluation`] when evaluation fails, [`ConditionError::NotABool`] when the
    /// expression returns something else than a boolean.
    pub fn evaluate(&self, result: &ResultValue) -> Result<bool, ConditionError> {
        let mut context = Context::default();
        context.insert("result", result.to_expr());
        match ENVIRONMENT.run(&self.program, &context) {
            Ok(expr::Value::Bool(verdict)) => Ok(verdict),
            Ok(other) => Err(ConditionError::NotABool {
                expression: self.source.clone(),
                returned: describe(&other),
            }),
            Err(error) => Err(ConditionError::Evaluation {
                expression: self.source.clone(),
                result: result.render(),
                reason: error.to_string(),
                hint: result.hint().map(|hint| format!(" ({hint})")).unwrap_or_default(),
            }),
        }
    }
}

/// Turns the parser's multi-line report (` --> 1:8`, a caret, `= expected ...`) into one line.
fn syntax_error(expression: &str, error: &expr::Error) -> ConditionError {
    let report = error.to_string();
    let (line, column) = report
        .lines()
        .find_map(|line| line.trim().strip_prefix("-->"))
        .and_then(|position| {
            let (line, column) = position.trim().split_once(':')?;
            Some((line.parse().ok()?, column.parse().ok()?))
        })
        .unwrap_or((1, 1));
    let reason = report
        .lines()
        .find_map(|line| line.trim().strip_prefix("= "))
        .map_or_else(|| report.trim().to_string(), str::to_string);
    ConditionError::Syntax {
        expression: expression.to_string(),
        line,
        column,
        reason,
    }
}
