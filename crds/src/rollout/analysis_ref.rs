//! How a Rollout asks for analysis: templates, arguments and run options.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::meta::{FieldRef, LabelsAnnotations};

/// Analysis requested by a Rollout (a step, background, pre- or post-promotion).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RolloutAnalysis {
    /// Templates whose metrics make up the AnalysisRun.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub templates: Vec<AnalysisTemplateRef>,
    /// Values for the templates' arguments. Only arguments the templates declare are used.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<RolloutAnalysisArg>,
    /// Metrics (names are regular expressions) whose results are recorded but never fail the run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dry_run: Vec<DryRun>,
    /// How many measurements to keep per metric (names are regular expressions). Default 10.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub measurement_retention: Vec<MeasurementRetention>,
    /// Labels and annotations for the AnalysisRuns created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis_run_metadata: Option<LabelsAnnotations>,
}

/// Background analysis: runs beside the canary steps from `startingStep` on.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackgroundAnalysis {
    /// The analysis to run.
    #[serde(flatten)]
    pub analysis: RolloutAnalysis,
    /// Index of the step at which the background run is created. Defaults to 0 (from the start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starting_step: Option<i32>,
}

/// A reference to an AnalysisTemplate or ClusterAnalysisTemplate.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisTemplateRef {
    /// Name of the template.
    #[serde(default)]
    pub template_name: String,
    /// True to use a ClusterAnalysisTemplate instead of an AnalysisTemplate in the Rollout's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_scope: Option<bool>,
}

/// An argument value supplied by a Rollout.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RolloutAnalysisArg {
    /// Name of the template argument.
    pub name: String,
    /// Literal value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Value taken from the Rollout at run time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_from: Option<RolloutArgValueFrom>,
}

/// Where a Rollout-supplied argument takes its value from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RolloutArgValueFrom {
    /// `Stable` or `Latest`: the pod-template hash of the stable or the new ReplicaSet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_template_hash_value: Option<String>,
    /// A field of the Rollout, e.g. `metadata.labels['env']`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_ref: Option<FieldRef>,
}

/// A metric run in dry-run mode.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DryRun {
    /// Metric name, or a regular expression matching metric names (`.*` for all).
    pub metric_name: String,
}

/// How many measurements to keep for matching metrics.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MeasurementRetention {
    /// Metric name, or a regular expression matching metric names.
    pub metric_name: String,
    /// Number of most recent measurements to keep.
    pub limit: i32,
}
