//! The outcome of one measurement from its success and failure conditions.

use crds::analysis::AnalysisPhase;

use crate::condition::{Condition, ConditionError, ResultValue};

/// A metric's parsed conditions.
#[derive(Clone, Debug, Default)]
pub struct Conditions {
    /// `successCondition`.
    pub success: Option<Condition>,
    /// `failureCondition`.
    pub failure: Option<Condition>,
}

impl Conditions {
    /// Parses both conditions; empty strings count as unset.
    ///
    /// # Errors
    /// The first condition that does not parse, with the field it came from.
    pub fn parse(success: Option<&str>, failure: Option<&str>) -> Result<Self, (&'static str, ConditionError)> {
        let parse = |field: &'static str, text: Option<&str>| match text.map(str::trim) {
            None | Some("") => Ok(None),
            Some(text) => Condition::parse(text).map(Some).map_err(|e| (field, e)),
        };
        Ok(Self {
            success: parse("successCondition", success)?,
            failure: parse("failureCondition", failure)?,
        })
    }

    /// The phase of a measurement whose value is `result`, exactly as Argo decides it:
    /// no condition: Successful; only success: Failed unless it holds; only failure: Successful
    /// unless it holds; both: failure wins, then success, else Inconclusive.
    ///
    /// # Errors
    /// A condition that cannot be evaluated: the measurement is an Error.
    pub fn assess(&self, result: &ResultValue) -> Result<AnalysisPhase, ConditionError> {
        let success = self.success.as_ref().map(|c| c.evaluate(result)).transpose()?;
        let failure = self.failure.as_ref().map(|c| c.evaluate(result)).transpose()?;
        Ok(match (success, failure) {
            (None, None) => AnalysisPhase::Successful,
            (Some(success), None) => pass_or_fail(success),
            (None, Some(failure)) => pass_or_fail(!failure),
            (Some(_), Some(true)) => AnalysisPhase::Failed,
            (Some(true), Some(false)) => AnalysisPhase::Successful,
            (Some(false), Some(false)) => AnalysisPhase::Inconclusive,
        })
    }
}

fn pass_or_fail(pass: bool) -> AnalysisPhase {
    if pass {
        AnalysisPhase::Successful
    } else {
        AnalysisPhase::Failed
    }
}
