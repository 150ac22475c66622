//! Turning an AnalysisRun spec into what the state machine runs: arguments substituted,
//! durations, counts and limits parsed, conditions parsed once, dry-run and retention resolved.

use crds::analysis::{AnalysisRunSpec, Metric, TtlStrategy};
use crds::defaults::{MEASUREMENT_RETENTION, MetricLimits};
use jiff::SignedDuration;
use regex::Regex;

use crate::args::{ResolvedArgs, substitute};
use crate::assess::Conditions;

/// A metric ready to run.
#[derive(Clone, Debug)]
pub struct CompiledMetric {
    /// The metric with arguments substituted.
    pub metric: Metric,
    /// Time between measurements (`None`: measured once).
    pub interval: Option<SignedDuration>,
    /// Wait before the first measurement.
    pub initial_delay: Option<SignedDuration>,
    /// Measurements to take (`None`: until terminated).
    pub count: Option<i32>,
    /// Limits with defaults applied.
    pub limits: MetricLimits,
    /// Parsed conditions.
    pub conditions: Conditions,
    /// Whether the metric is dry-run (never affects the run's phase).
    pub dry_run: bool,
    /// Measurements kept in status.
    pub retention: usize,
    /// The provider kind (`prometheus`, `web`, `job`, ...).
    pub provider: &'static str,
}

/// A run ready to advance.
#[derive(Clone, Debug)]
pub struct CompiledRun {
    /// Metrics, in spec order.
    pub metrics: Vec<CompiledMetric>,
    /// `spec.terminate`.
    pub terminate: bool,
    /// `spec.ttlStrategy`.
    pub ttl: Option<TtlStrategy>,
}

/// Compiles a run. Anything wrong is reported with the metric and field it concerns; the run then
/// ends in Error instead of measuring something other than what was written.
///
/// # Errors
/// A message naming the metric and field.
pub fn compile(spec: &AnalysisRunSpec, args: &ResolvedArgs, supported: &[&str]) -> Result<CompiledRun, String> {
    let dry_run = spec
        .dry_run
        .iter()
        .map(|d| pattern("dryRun", &d.metric_name))
        .collect::<Result<Vec<_>, _>>()?;
    let retention = spec
        .measurement_retention
        .iter()
        .map(|r| Ok((pattern("measurementRetention", &r.metric_name)?, r.limit)))
        .collect::<Result<Vec<_>, String>>()?;
    let mut metrics = Vec::with_capacity(spec.metrics.len());
    for (i, metric) in spec.metrics.iter().enumerate() {
        if spec.metrics[..i].iter().any(|m| m.name == metric.name) {
            return Err(format!("metrics[{i}]: metric name {:?} is used twice", metric.name));
        }
        let at = |field: &str| format!("metrics[{i}] ({:?}) {field}", metric.name);
        let metric = substitute(metric, args).map_err(|e| format!("metrics[{i}]: {e}"))?;
        let kinds = metric.provider.kinds();
        let provider = match kinds.as_slice() {
            [one] => *one,
            [] => return Err(format!("{}: no provider is set", at("provider"))),
            many => {
                return Err(format!(
                    "{}: exactly one provider is allowed, found {}",
                    at("provider"),
                    many.join(", ")
                ));
            }
        };
        if !supported.contains(&provider) {
            return Err(format!("{}: provider {provider} is not supported", at("provider")));
        }
        let interval = duration(metric.interval.as_deref()).map_err(|e| format!("{}: {e}", at("interval")))?;
        let initial_delay =
            duration(metric.initial_delay.as_deref()).map_err(|e| format!("{}: {e}", at("initialDelay")))?;
        let count = metric
            .effective_count()
            .map_err(|e| format!("metrics[{i}] ({:?}) {e}", metric.name))?;
        let limits = metric
            .effective_limits()
            .map_err(|e| format!("metrics[{i}] ({:?}) {e}", metric.name))?;
        if limits.failure_limit < 0 && limits.consecutive_success_limit <= 0 {
            return Err(format!(
                "{}: failureLimit -1 needs consecutiveSuccessLimit > 0, or the metric could never end",
                at("failureLimit")
            ));
        }
        let conditions = Conditions::parse(metric.success_condition.as_deref(), metric.failure_condition.as_deref())
            .map_err(|(field, e)| format!("{}: {e}", at(field)))?;
        let kept = retention
            .iter()
            .find(|(re, _)| re.is_match(&metric.name))
            .map_or(MEASUREMENT_RETENTION, |(_, limit)| *limit);
        metrics.push(CompiledMetric {
            interval,
            initial_delay,
            count,
            limits,
            conditions,
            dry_run: dry_run.iter().any(|re| re.is_match(&metric.name)),
            retention: usize::try_from(kept.max(1)).unwrap_or(1),
            provider,
            metric,
        });
    }
    Ok(CompiledRun {
        metrics,
        terminate: spec.terminate.unwrap_or(false),
        ttl: spec.ttl_strategy.clone(),
    })
}

/// Argo matches dry-run and retention names as unanchored regular expressions.
fn pattern(field: &str, text: &str) -> Result<Regex, String> {
    Regex::new(text).map_err(|e| format!("{field}: metricName {text:?} is not a valid regular expression: {e}"))
}

fn duration(text: Option<&str>) -> Result<Option<SignedDuration>, String> {
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return Ok(None);
    };
    let parsed = crds::duration::parse(text).map_err(|e| e.to_string())?;
    if !parsed.is_positive() {
        return Err(format!("{text:?} must be longer than zero"));
    }
    Ok(Some(SignedDuration::from_nanos(parsed.as_nanos())))
}
