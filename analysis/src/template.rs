//! Building an AnalysisRun spec from templates (AnalysisTemplate / ClusterAnalysisTemplate specs,
//! nested `templates` already resolved by the caller) and the caller's arguments.

use crds::analysis::{AnalysisRunSpec, AnalysisTemplateSpec, Argument};

/// Templates that cannot be combined.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// Two templates define a metric with the same name.
    #[error("two templates define metric {0:?}")]
    DuplicateMetric(String),
    /// Two templates give the same argument different values.
    #[error("argument {0:?} is given different values by two templates")]
    ConflictingArg(String),
    /// An argument has no value and the caller did not supply one.
    #[error("args.{0} has no value: the template declares it without one and the caller did not supply it")]
    Unresolved(String),
}

/// Merges `templates` into one run spec. Caller arguments override template arguments of the
/// same name only; extra caller arguments are ignored (as in Argo).
///
/// # Errors
/// Duplicate metric names, conflicting argument values, or an argument left without a value.
pub fn run_spec(templates: &[&AnalysisTemplateSpec], overrides: &[Argument]) -> Result<AnalysisRunSpec, TemplateError> {
    let mut spec = AnalysisRunSpec::default();
    for template in templates {
        for metric in &template.metrics {
            if spec.metrics.iter().any(|m| m.name == metric.name) {
                return Err(TemplateError::DuplicateMetric(metric.name.clone()));
            }
            spec.metrics.push(metric.clone());
        }
        for arg in &template.args {
            match spec.args.iter().find(|a| a.name == arg.name) {
                Some(existing) if existing.value.is_some() && arg.value.is_some() && existing.value != arg.value => {
                    return Err(TemplateError::ConflictingArg(arg.name.clone()));
                }
                Some(_) => {}
                None => spec.args.push(arg.clone()),
            }
        }
        spec.dry_run.extend(template.dry_run.iter().cloned());
        spec.measurement_retention
            .extend(template.measurement_retention.iter().cloned());
    }
    for arg in &mut spec.args {
        if let Some(given) = overrides.iter().find(|o| o.name == arg.name) {
            arg.value.clone_from(&given.value);
            arg.value_from.clone_from(&given.value_from);
        }
        if arg.value.is_none() && arg.value_from.is_none() {
            return Err(TemplateError::Unresolved(arg.name.clone()));
        }
    }
    Ok(spec)
}
