//! Every default value of the API, in one place, and the accessors that apply them.
//!
//! Specs keep `None` for what the user did not write, so that what is stored in the cluster is what
//! the user applied (the controller never writes defaults into `spec`). Code that needs the
//! effective value calls the accessors below.

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::analysis::Metric;
use crate::gitops::{ApplicationSource, ApplicationSpec, Backoff, RetryStrategy};
use crate::rollout::{AnalysisRunHistory, BlueGreenStrategy, CanaryStrategy, RolloutSpec};

/// `spec.replicas` of a Rollout.
pub const REPLICAS: i32 = 1;
/// `spec.revisionHistoryLimit` of a Rollout.
pub const REVISION_HISTORY_LIMIT: i32 = 10;
/// `spec.progressDeadlineSeconds` of a Rollout.
pub const PROGRESS_DEADLINE_SECONDS: i32 = 600;
/// `spec.minReadySeconds` of a Rollout.
pub const MIN_READY_SECONDS: i32 = 0;
/// `maxSurge` of a canary: the string "25", which Argo always reads as 25%.
pub const MAX_SURGE: &str = "25";
/// `maxUnavailable` of a canary: the string "25", which Argo always reads as 25%.
pub const MAX_UNAVAILABLE: &str = "25";
/// `trafficRouting.maxTrafficWeight`.
pub const MAX_TRAFFIC_WEIGHT: i32 = 100;
/// `scaleDownDelaySeconds` (blue-green, and canary with traffic routing).
pub const SCALE_DOWN_DELAY_SECONDS: i32 = 30;
/// `abortScaleDownDelaySeconds` (blue-green, and canary with traffic routing).
pub const ABORT_SCALE_DOWN_DELAY_SECONDS: i32 = 30;
/// `blueGreen.autoPromotionEnabled`.
pub const AUTO_PROMOTION_ENABLED: bool = true;
/// `analysis.successfulRunHistoryLimit` of a Rollout.
pub const SUCCESSFUL_RUN_HISTORY_LIMIT: i32 = 5;
/// `analysis.unsuccessfulRunHistoryLimit` of a Rollout.
pub const UNSUCCESSFUL_RUN_HISTORY_LIMIT: i32 = 5;

/// `failureLimit` of a metric (no failure tolerated).
pub const FAILURE_LIMIT: i32 = 0;
/// `inconclusiveLimit` of a metric.
pub const INCONCLUSIVE_LIMIT: i32 = 0;
/// `consecutiveErrorLimit` of a metric (the metric errors on the fifth consecutive error).
pub const CONSECUTIVE_ERROR_LIMIT: i32 = 4;
/// `consecutiveSuccessLimit` of a metric (0 = disabled).
pub const CONSECUTIVE_SUCCESS_LIMIT: i32 = 0;
/// Measurements kept per metric when no `measurementRetention` applies.
pub const MEASUREMENT_RETENTION: i32 = 10;
/// Seconds before a measurement that errored is retried (instead of `interval`).
pub const ERROR_RETRY_SECONDS: i64 = 10;
/// `prometheus.timeout` in seconds.
pub const PROMETHEUS_TIMEOUT_SECONDS: i64 = 30;
/// `web.timeoutSeconds`.
pub const WEB_TIMEOUT_SECONDS: i64 = 10;
/// `web.method`.
pub const WEB_METHOD: &str = "GET";
/// `web.jsonPath`.
pub const WEB_JSON_PATH: &str = "{$}";

/// `spec.project` of an Application.
pub const APP_PROJECT: &str = "default";
/// `spec.source.targetRevision` of an Application.
pub const TARGET_REVISION: &str = "HEAD";
/// `spec.revisionHistoryLimit` of an Application.
pub const APP_REVISION_HISTORY_LIMIT: i64 = 10;
/// `retry.backoff.duration`.
pub const BACKOFF_DURATION: &str = "5s";
/// `retry.backoff.factor`.
pub const BACKOFF_FACTOR: i64 = 2;
/// `retry.backoff.maxDuration`.
pub const BACKOFF_MAX_DURATION: &str = "3m";

// === impl RolloutSpec ===

impl RolloutSpec {
    /// Desired pods.
    #[must_use]
    pub fn effective_replicas(&self) -> i32 {
        self.replicas.unwrap_or(REPLICAS)
    }

    /// Old ReplicaSets to keep.
    #[must_use]
    pub fn effective_revision_history_limit(&self) -> i32 {
        self.revision_history_limit.unwrap_or(REVISION_HISTORY_LIMIT)
    }

    /// Seconds without progress before the rollout is Degraded.
    #[must_use]
    pub fn effective_progress_deadline_seconds(&self) -> i32 {
        self.progress_deadline_seconds.unwrap_or(PROGRESS_DEADLINE_SECONDS)
    }

    /// Seconds a pod must be ready to count as available.
    #[must_use]
    pub fn effective_min_ready_seconds(&self) -> i32 {
        self.min_ready_seconds.unwrap_or(MIN_READY_SECONDS)
    }

    /// Whether the rollout is manually paused.
    #[must_use]
    pub fn is_paused(&self) -> bool {
        self.paused.unwrap_or(false)
    }

    /// AnalysisRun history limits.
    #[must_use]
    pub fn effective_analysis_history(&self) -> (i32, i32) {
        let history = self.analysis.clone().unwrap_or_default();
        history.effective()
    }
}

impl AnalysisRunHistory {
    /// (successful, unsuccessful) runs to keep.
    #[must_use]
    pub fn effective(&self) -> (i32, i32) {
        (
            self.successful_run_history_limit
                .unwrap_or(SUCCESSFUL_RUN_HISTORY_LIMIT),
            self.unsuccessful_run_history_limit
                .unwrap_or(UNSUCCESSFUL_RUN_HISTORY_LIMIT),
        )
    }
}

// === impl CanaryStrategy ===

impl CanaryStrategy {
    /// `maxSurge`, defaulted.
    #[must_use]
    pub fn effective_max_surge(&self) -> IntOrString {
        self.max_surge
            .clone()
            .unwrap_or_else(|| IntOrString::String(MAX_SURGE.into()))
    }

    /// `maxUnavailable`, defaulted.
    #[must_use]
    pub fn effective_max_unavailable(&self) -> IntOrString {
        self.max_unavailable
            .clone()
            .unwrap_or_else(|| IntOrString::String(MAX_UNAVAILABLE.into()))
    }

    /// The total traffic weight.
    #[must_use]
    pub fn effective_max_traffic_weight(&self) -> i32 {
        self.traffic_routing
            .as_ref()
            .and_then(|t| t.max_traffic_weight)
            .unwrap_or(MAX_TRAFFIC_WEIGHT)
    }

    /// Seconds the old stable ReplicaSet stays up after a switch (traffic routing only).
    #[must_use]
    pub fn effective_scale_down_delay_seconds(&self) -> i32 {
        self.scale_down_delay_seconds.unwrap_or(SCALE_DOWN_DELAY_SECONDS)
    }

    /// Seconds before the canary is scaled down after an abort (traffic routing only).
    #[must_use]
    pub fn effective_abort_scale_down_delay_seconds(&self) -> i32 {
        self.abort_scale_down_delay_seconds
            .unwrap_or(ABORT_SCALE_DOWN_DELAY_SECONDS)
    }
}

// === impl BlueGreenStrategy ===

impl BlueGreenStrategy {
    /// Whether the switch happens without a promote.
    #[must_use]
    pub fn effective_auto_promotion_enabled(&self) -> bool {
        self.auto_promotion_enabled.unwrap_or(AUTO_PROMOTION_ENABLED)
    }

    /// Seconds the old active ReplicaSet stays up after the switch.
    #[must_use]
    pub fn effective_scale_down_delay_seconds(&self) -> i32 {
        self.scale_down_delay_seconds.unwrap_or(SCALE_DOWN_DELAY_SECONDS)
    }

    /// Seconds before the preview is scaled down after an abort.
    #[must_use]
    pub fn effective_abort_scale_down_delay_seconds(&self) -> i32 {
        self.abort_scale_down_delay_seconds
            .unwrap_or(ABORT_SCALE_DOWN_DELAY_SECONDS)
    }
}

// === impl Metric ===

/// The limits of a metric once defaults are applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetricLimits {
    /// Failures tolerated (-1: no limit).
    pub failure_limit: i32,
    /// Inconclusive results tolerated.
    pub inconclusive_limit: i32,
    /// Consecutive errors tolerated.
    pub consecutive_error_limit: i32,
    /// Consecutive successes that end the metric (0: disabled).
    pub consecutive_success_limit: i32,
}

/// A limit or count that is not an integer (after argument substitution).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {value:?} is not an integer")]
pub struct NotAnInteger {
    /// The metric field, e.g. `failureLimit`.
    pub field: &'static str,
    /// The rejected text.
    pub value: String,
}

fn int_or_default(field: &'static str, value: Option<&IntOrString>, default: i32) -> Result<i32, NotAnInteger> {
    match value {
        None => Ok(default),
        Some(IntOrString::Int(n)) => Ok(*n),
        Some(IntOrString::String(text)) => text.trim().parse().map_err(|_| NotAnInteger {
            field,
            value: text.clone(),
        }),
    }
}

impl Metric {
    /// The metric's limits with defaults applied.
    ///
    /// # Errors
    /// [`NotAnInteger`] when a limit is a string that is not a number (e.g. an unsubstituted argument).
    pub fn effective_limits(&self) -> Result<MetricLimits, NotAnInteger> {
        Ok(MetricLimits {
            failure_limit: int_or_default("failureLimit", self.failure_limit.as_ref(), FAILURE_LIMIT)?,
            inconclusive_limit: int_or_default(
                "inconclusiveLimit",
                self.inconclusive_limit.as_ref(),
                INCONCLUSIVE_LIMIT,
            )?,
            consecutive_error_limit: int_or_default(
                "consecutiveErrorLimit",
                self.consecutive_error_limit.as_ref(),
                CONSECUTIVE_ERROR_LIMIT,
            )?,
            consecutive_success_limit: int_or_default(
                "consecutiveSuccessLimit",
                self.consecutive_success_limit.as_ref(),
                CONSECUTIVE_SUCCESS_LIMIT,
            )?,
        })
    }

    /// The number of measurements: `Some(n)`, or `None` for unbounded (interval without count).
    ///
    /// # Errors
    /// [`NotAnInteger`] when `count` is a string that is not a number.
    pub fn effective_count(&self) -> Result<Option<i32>, NotAnInteger> {
        let count = int_or_default("count", self.count.as_ref(), 0)?;
        Ok(match (count, self.interval.is_some()) {
            (0, true) => None,
            (0, false) => Some(1),
            (n, _) => Some(n),
        })
    }
}

// === impl ApplicationSpec ===

impl ApplicationSpec {
    /// The project, `default` when empty.
    #[must_use]
    pub fn effective_project(&self) -> &str {
        match self.project.as_deref() {
            Some(p) if !p.is_empty() => p,
            _ => APP_PROJECT,
        }
    }

    /// Sync history entries to keep.
    #[must_use]
    pub fn effective_revision_history_limit(&self) -> i64 {
        self.revision_history_limit.unwrap_or(APP_REVISION_HISTORY_LIMIT)
    }
}

impl ApplicationSource {
    /// The revision to deploy, `HEAD` when empty.
    #[must_use]
    pub fn effective_target_revision(&self) -> &str {
        match self.target_revision.as_deref() {
            Some(r) if !r.is_empty() => r,
            _ => TARGET_REVISION,
        }
    }
}

impl RetryStrategy {
    /// The backoff, with every field defaulted: (duration, factor, maxDuration).
    #[must_use]
    pub fn effective_backoff(&self) -> Backoff {
        let given = self.backoff.clone().unwrap_or_default();
        Backoff {
            duration: Some(given.duration.unwrap_or_else(|| BACKOFF_DURATION.into())),
            factor: Some(given.factor.unwrap_or(BACKOFF_FACTOR)),
            max_duration: Some(given.max_duration.unwrap_or_else(|| BACKOFF_MAX_DURATION.into())),
        }
    }
}

/// Resolves a maxSurge/maxUnavailable value against a replica count, as Argo does: a number is
/// taken as is; a string is **always** a percentage (`"25%"` and `"25"` both mean 25%), rounded up
/// or down.
///
/// # Errors
/// [`NotAnInteger`] when a string is not a number with an optional `%`.
pub fn scaled_int_or_percent(
    field: &'static str,
    value: &IntOrString,
    total: i32,
    round_up: bool,
) -> Result<i32, NotAnInteger> {
    match value {
        IntOrString::Int(n) => Ok(*n),
        IntOrString::String(text) => {
            let percent: i64 = text.trim().trim_end_matches('%').parse().map_err(|_| NotAnInteger {
                field,
                value: text.clone(),
            })?;
            let scaled = i64::from(total) * percent;
            let value = if round_up {
                (scaled + 99).div_euclid(100)
            } else {
                scaled.div_euclid(100)
            };
            Ok(i32::try_from(value).unwrap_or(i32::MAX))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rollout_defaults() {
        let spec = RolloutSpec::default();
        assert_eq!(spec.effective_replicas(), 1);
        assert_eq!(spec.effective_revision_history_limit(), 10);
        assert_eq!(spec.effective_progress_deadline_seconds(), 600);
        assert_eq!(spec.effective_analysis_history(), (5, 5));
        let canary = CanaryStrategy::default();
        assert_eq!(canary.effective_max_surge(), IntOrString::String("25".into()));
        assert_eq!(canary.effective_max_unavailable(), IntOrString::String("25".into()));
        assert!(BlueGreenStrategy::default().effective_auto_promotion_enabled());
    }

    #[test]
    fn string_is_always_a_percentage() {
        let s = |t: &str| IntOrString::String(t.into());
        // Reference b3: the default "25" on 10 replicas gives surge 3 (up) and unavailable 2 (down).
        assert_eq!(scaled_int_or_percent("maxSurge", &s("25"), 10, true), Ok(3));
        assert_eq!(scaled_int_or_percent("maxUnavailable", &s("25"), 10, false), Ok(2));
        assert_eq!(scaled_int_or_percent("maxSurge", &s("25%"), 10, true), Ok(3));
        // "3" is 3%, not 3 pods.
        assert_eq!(scaled_int_or_percent("maxSurge", &s("3"), 10, true), Ok(1));
        assert_eq!(scaled_int_or_percent("maxUnavailable", &s("3"), 10, false), Ok(0));
        assert_eq!(scaled_int_or_percent("maxSurge", &IntOrString::Int(3), 10, true), Ok(3));
        assert!(scaled_int_or_percent("maxSurge", &s("lots"), 10, true).is_err());
    }

    #[test]
    fn metric_defaults() {
        let metric = Metric::default();
        assert_eq!(
            metric.effective_limits(),
            Ok(MetricLimits {
                failure_limit: 0,
                inconclusive_limit: 0,
                consecutive_error_limit: 4,
                consecutive_success_limit: 0
            })
        );
        assert_eq!(metric.effective_count(), Ok(Some(1)));
        let unbounded = Metric {
            interval: Some("30s".into()),
            ..Metric::default()
        };
        assert_eq!(unbounded.effective_count(), Ok(None));
        let counted = Metric {
            interval: Some("30s".into()),
            count: Some(IntOrString::String("3".into())),
            ..Metric::default()
        };
        assert_eq!(counted.effective_count(), Ok(Some(3)));
    }

    #[test]
    fn application_defaults() {
        let spec = ApplicationSpec::default();
        assert_eq!(spec.effective_project(), "default");
        assert_eq!(ApplicationSource::default().effective_target_revision(), "HEAD");
        let backoff = RetryStrategy::default().effective_backoff();
        assert_eq!(backoff.duration.as_deref(), Some("5s"));
        assert_eq!(backoff.factor, Some(2));
        assert_eq!(backoff.max_duration.as_deref(), Some("3m"));
    }
}
