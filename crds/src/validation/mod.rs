//! Semantic validation of specs: every problem, each with the path of the field it concerns.
//!
//! `validate()` never stops at the first problem: a user fixing a manifest sees all of them at once.
//! Messages are written for the person who wrote the manifest and follow the checks Argo Rollouts
//! and Argo CD make (Argo Rollouts' `validation.ValidateRollout`, Argo CD's `argo.ValidateRepo` and
//! `ValidatePermissions`), with field paths instead of Go struct names.

mod analysis;
mod application;
mod applicationset;
mod appproject;
mod document;
mod rollout;

pub use document::{DocumentError, validate_document};

use std::fmt;

/// One problem in a spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// Path of the field from the object root, e.g. `spec.strategy.canary.steps[2].setWeight`.
    pub path: String,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Resources that can check their own spec.
pub trait Validate {
    /// Every problem found; empty when the object is valid.
    fn validate(&self) -> Vec<FieldError>;
}

/// Collects problems while a validator walks a spec.
#[derive(Debug, Default)]
struct Problems(Vec<FieldError>);

impl Problems {
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            path: path.into(),
            message: message.into(),
        });
    }

    fn non_negative(&mut self, path: &str, value: Option<i32>) {
        if let Some(v) = value.filter(|v| *v < 0) {
            self.add(path, format!("{v} must not be negative"));
        }
    }

    fn in_range(&mut self, path: &str, value: i32, min: i32, max: i32) {
        if !(min..=max).contains(&value) {
            self.add(path, format!("{value} is outside {min}..{max}"));
        }
    }

    fn required_name(&mut self, name: Option<&str>) {
        if name.is_none_or(str::is_empty) {
            self.add("metadata.name", "required");
        }
    }

    fn into_vec(self) -> Vec<FieldError> {
        self.0
    }
}

/// True when the text still holds an unsubstituted `{{args.NAME}}` placeholder; such values can
/// only be checked once the arguments are known.
fn is_templated(text: &str) -> bool {
    text.contains("{{")
}

/// Lists names joined with commas and a final "and".
fn join_and(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
