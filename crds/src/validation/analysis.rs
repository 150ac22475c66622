//! AnalysisTemplate, ClusterAnalysisTemplate and AnalysisRun validation.

use std::collections::BTreeSet;

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{FieldError, Problems, Validate, is_templated, join_and};
use crate::analysis::{
    AnalysisRun, AnalysisTemplate, AnalysisTemplateSpec, Argument, ClusterAnalysisTemplate, Metric, MetricProvider,
};
use crate::duration;
use crate::rollout::{DryRun, MeasurementRetention};

impl Validate for AnalysisTemplate {
    fn validate(&self) -> Vec<FieldError> {
        let mut p = Problems::default();
        p.required_name(self.metadata.name.as_deref());
        template(&mut p, &self.spec);
        p.into_vec()
    }
}

impl Validate for ClusterAnalysisTemplate {
    fn validate(&self) -> Vec<FieldError> {
        let mut p = Problems::default();
        p.required_name(self.metadata.name.as_deref());
        template(&mut p, &self.spec.template);
        p.into_vec()
    }
}

impl Validate for AnalysisRun {
    fn validate(&self) -> Vec<FieldError> {
        let mut p = Problems::default();
        if self.metadata.name.as_deref().is_none_or(str::is_empty)
            && self.metadata.generate_name.as_deref().is_none_or(str::is_empty)
        {
            p.add("metadata.name", "required (or metadata.generateName)");
        }
        let spec = &self.spec;
        if spec.metrics.is_empty() {
            p.add("spec.metrics", "at least one metric is required");
        }
        let declared = args(&mut p, &spec.args, true);
        metrics(&mut p, &spec.metrics, Some(&declared));
        options(&mut p, &spec.dry_run, &spec.measurement_retention);
        if let Some(ttl) = &spec.ttl_strategy {
            p.non_negative("spec.ttlStrategy.secondsAfterCompletion", ttl.seconds_after_completion);
            p.non_negative("spec.ttlStrategy.secondsAfterSuccess", ttl.seconds_after_success);
            p.non_negative("spec.ttlStrategy.secondsAfterFailure", ttl.seconds_after_failure);
        }
        p.into_vec()
    }
}

fn template(p: &mut Problems, spec: &AnalysisTemplateSpec) {
    if spec.metrics.is_empty() && spec.templates.is_empty() {
        p.add("spec.metrics", "at least one metric is required");
    }
    for (i, t) in spec.templates.iter().enumerate() {
        if t.template_name.is_empty() {
            p.add(format!("spec.templates[{i}].templateName"), "required");
        }
    }
    let declared = args(p, &spec.args, false);
    // Arguments of composed templates are only known once they are resolved.
    let known = spec.templates.is_empty().then_some(&declared);
    metrics(p, &spec.metrics, known);
    options(p, &spec.dry_run, &spec.measurement_retention);
}

/// Checks arguments and returns the declared names. A run's arguments must all have values.
fn args<'a>(p: &mut Problems, args: &'a [Argument], need_value: bool) -> BTreeSet<&'a str> {
    let mut seen = BTreeSet::new();
    for (i, arg) in args.iter().enumerate() {
        let path = format!("spec.args[{i}]");
        if arg.name.is_empty() {
            p.add(format!("{path}.name"), "required");
        } else if !seen.insert(arg.name.as_str()) {
            p.add(format!("{path}.name"), format!("duplicate argument {:?}", arg.name));
        }
        match (&arg.value, &arg.value_from) {
            (Some(_), Some(_)) => p.add(&path, "value and valueFrom are mutually exclusive"),
            (None, None) if need_value => p.add(&path, format!("argument {:?} has no value", arg.name)),
            (None, Some(from)) => match (&from.secret_key_ref, &from.field_ref) {
                (Some(secret), None) => {
                    if secret.name.is_empty() {
                        p.add(format!("{path}.valueFrom.secretKeyRef.name"), "required");
                    }
                    if secret.key.is_empty() {
                        p.add(format!("{path}.valueFrom.secretKeyRef.key"), "required");
                    }
                }
                (None, Some(field)) => {
                    if field.field_path.is_empty() {
                        p.add(format!("{path}.valueFrom.fieldRef.fieldPath"), "required");
                    }
                }
                _ => p.add(format!("{path}.valueFrom"), "exactly one of secretKeyRef or fieldRef"),
            },
            _ => {}
        }
    }
    seen
}

fn options(p: &mut Problems, dry_run: &[DryRun], retention: &[MeasurementRetention]) {
    for (i, dry) in dry_run.iter().enumerate() {
        if dry.metric_name.is_empty() {
            p.add(format!("spec.dryRun[{i}].metricName"), "required");
        }
    }
    for (i, keep) in retention.iter().enumerate() {
        if keep.metric_name.is_empty() {
            p.add(format!("spec.measurementRetention[{i}].metricName"), "required");
        }
        if keep.limit <= 0 {
            p.add(
                format!("spec.measurementRetention[{i}].limit"),
                format!("{} must be greater than 0", keep.limit),
            );
        }
    }
}

fn metrics(p: &mut Problems, metrics: &[Metric], declared_args: Option<&BTreeSet<&str>>) {
    let mut names = BTreeSet::new();
    for (i, metric) in metrics.iter().enumerate() {
        let path = format!("spec.metrics[{i}]");
        if metric.name.is_empty() {
            p.add(format!("{path}.name"), "required");
        } else if !names.insert(metric.name.as_str()) {
            p.add(
                format!("{path}.name"),
                format!("duplicate metric name {:?}", metric.name),
            );
        }
        self::metric(p, &path, metric);
        if let Some(declared) = declared_args {
            undeclared_args(p, &path, metric, declared);
        }
    }
}

/// A duration field of a metric: must parse and be positive, unless it is still an argument.
fn metric_duration(p: &mut Problems, path: String, value: Option<&str>, allow_zero: bool) -> bool {
    let Some(text) = value.filter(|t| !is_templated(t)) else {
        return value.is_some();
    };
    match duration::parse(text) {
        Ok(d) if d.as_nanos() < 0 || (!allow_zero && d.as_nanos() == 0) => {
            let bound = if allow_zero {
                "must not be negative"
            } else {
                "must be greater than 0"
            };
            p.add(path, format!("{text:?} {bound}"));
        }
        Ok(_) => {}
        Err(e) => p.add(path, e.to_string()),
    }
    true
}

/// An integer-or-string limit of a metric; `None` when unknown (missing or still an argument).
fn metric_int(p: &mut Problems, path: String, value: Option<&IntOrString>, min: i32) -> Option<i32> {
    let n = match value? {
        IntOrString::Int(n) => *n,
        IntOrString::String(text) if is_templated(text) => return None,
        IntOrString::String(text) => match text.trim().parse::<i32>() {
            Ok(n) => n,
            Err(_) => {
                p.add(path, format!("{text:?} is not an integer"));
                return None;
            }
        },
    };
    if n < min {
        p.add(path, format!("{n} must be at least {min}"));
        return None;
    }
    Some(n)
}

fn metric(p: &mut Problems, path: &str, metric: &Metric) {
    let has_interval = metric_duration(p, format!("{path}.interval"), metric.interval.as_deref(), false);
    metric_duration(p, format!("{path}.initialDelay"), metric.initial_delay.as_deref(), true);
    let count = metric_int(p, format!("{path}.count"), metric.count.as_ref(), 0);
    let failure = metric_int(p, format!("{path}.failureLimit"), metric.failure_limit.as_ref(), -1);
    let inconclusive = metric_int(
        p,
        format!("{path}.inconclusiveLimit"),
        metric.inconclusive_limit.as_ref(),
        0,
    );
    metric_int(
        p,
        format!("{path}.consecutiveErrorLimit"),
        metric.consecutive_error_limit.as_ref(),
        0,
    );
    let success = metric_int(
        p,
        format!("{path}.consecutiveSuccessLimit"),
        metric.consecutive_success_limit.as_ref(),
        0,
    );
    if count.is_some_and(|c| c > 1) && !has_interval {
        p.add(path, "count > 1 requires interval");
    }
    let failure_eff = failure.unwrap_or(crate::defaults::FAILURE_LIMIT);
    let success_eff = success.unwrap_or(crate::defaults::CONSECUTIVE_SUCCESS_LIMIT);
    if failure == Some(-1) && (metric.consecutive_success_limit.is_none() || success == Some(0)) {
        p.add(path, "failureLimit -1 needs a consecutiveSuccessLimit above 0 (otherwise the metric can never fail or succeed early)");
    }
    if let Some(count) = count.filter(|c| *c > 0) {
        if failure_eff >= 0 && count < failure_eff + success_eff {
            p.add(
                path,
                format!(
                    "count ({count}) must be at least failureLimit + consecutiveSuccessLimit ({})",
                    failure_eff + success_eff
                ),
            );
        }
        if let Some(inconclusive) = inconclusive.filter(|i| count < *i) {
            p.add(
                path,
                format!("count ({count}) must be at least inconclusiveLimit ({inconclusive})"),
            );
        }
    }
    provider(p, &format!("{path}.provider"), &metric.provider);
}

fn provider(p: &mut Problems, path: &str, provider: &MetricProvider) {
    let kinds = provider.kinds();
    match kinds.as_slice() {
        [] => p.add(path, "exactly one provider is required"),
        [_] => {}
        many => p.add(
            path,
            format!("exactly one provider is allowed, found {}", join_and(many)),
        ),
    }
    if let Some(prom) = &provider.prometheus {
        if prom.query.trim().is_empty() {
            p.add(format!("{path}.prometheus.query"), "required");
        }
        if let Some(address) = prom.address.as_deref().filter(|a| !is_templated(a))
            && !(address.starts_with("http://") || address.starts_with("https://"))
        {
            p.add(
                format!("{path}.prometheus.address"),
                format!("{address:?} is not an http(s) URL"),
            );
        }
        if let Some(timeout) = prom.timeout.filter(|t| *t < 0) {
            p.add(
                format!("{path}.prometheus.timeout"),
                format!("{timeout} must not be negative"),
            );
        }
    }
    if let Some(web) = &provider.web {
        if web.url.trim().is_empty() {
            p.add(format!("{path}.web.url"), "required");
        }
        if let Some(method) = web.method.as_deref().filter(|m| !["GET", "POST", "PUT"].contains(m)) {
            p.add(
                format!("{path}.web.method"),
                format!("{method:?} is not one of GET, POST or PUT"),
            );
        }
        if web.body.is_some() && web.json_body.is_some() {
            p.add(format!("{path}.web"), "body and jsonBody are mutually exclusive");
        }
        if let Some(timeout) = web.timeout_seconds.filter(|t| *t < 0) {
            p.add(
                format!("{path}.web.timeoutSeconds"),
                format!("{timeout} must not be negative"),
            );
        }
    }
    if let Some(job) = &provider.job {
        let containers = job.spec.template.spec.as_ref().map_or(0, |s| s.containers.len());
        if containers == 0 {
            p.add(
                format!("{path}.job.spec.template.spec.containers"),
                "at least one container is required",
            );
        }
    }
}

/// Flags `{{args.NAME}}` placeholders whose argument is not declared.
fn undeclared_args(p: &mut Problems, path: &str, metric: &Metric, declared: &BTreeSet<&str>) {
    let Ok(text) = serde_json::to_string(metric) else {
        return;
    };
    let mut reported = BTreeSet::new();
    for name in placeholders(&text) {
        if !declared.contains(name) && reported.insert(name) {
            p.add(
                path,
                format!("uses {{{{args.{name}}}}} but spec.args declares no {name:?}"),
            );
        }
    }
}

/// The argument names used as `{{ args.NAME }}` in a text (whitespace inside the braces allowed).
fn placeholders(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let inner = after[..end].trim();
        if let Some(name) = inner.strip_prefix("args.") {
            found.push(name.trim());
        }
        rest = &after[end + 2..];
    }
    found
}

#[cfg(test)]
mod tests {
    use super::placeholders;

    #[test]
    fn finds_placeholders_with_spaces() {
        assert_eq!(
            placeholders("a {{args.x}} b {{ args.service-name }} {{other}}"),
            vec!["x", "service-name"]
        );
        assert!(placeholders("no braces").is_empty());
    }
}
