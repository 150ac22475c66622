//! The ApplicationSet: Applications generated from lists, clusters or Git directories.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ApplicationSpec;

/// Generators and the Application template they fill in.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "argoproj.io",
    version = "v1alpha1",
    kind = "ApplicationSet",
    namespaced,
    status = "ApplicationSetStatus",
    shortname = "appset",
    shortname = "appsets",
    derive = "PartialEq",
    derive = "Default",
    doc = "ApplicationSet generates Applications from a template and generators (lists, clusters, Git directories)."
)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationSetSpec {
    /// Parameter sources; each parameter set yields one Application.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub generators: Vec<ApplicationSetGenerator>,
    /// The Application to generate, with `{{param}}` placeholders.
    #[serde(default)]
    pub template: ApplicationSetTemplate,
    /// Use Go templates (`{{.param}}`) instead of plain placeholders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub go_template: Option<bool>,
    /// Go template options, e.g. `missingkey=error`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub go_template_options: Vec<String>,
    /// What happens to generated Applications.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::any_object")]
    pub sync_policy: Option<serde_json::Value>,
    /// Progressive sync strategy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::any_object")]
    pub strategy: Option<serde_json::Value>,
    /// A patch applied to each generated Application, as a template string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_patch: Option<String>,
    /// Fields of generated Applications to leave alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "crate::schema::any_object_list")]
    pub ignore_application_differences: Vec<serde_json::Value>,
}

/// One generator. Exactly one field is set.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationSetGenerator {
    /// A literal list of parameter sets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list: Option<ListGenerator>,
    /// One parameter set per registered cluster (`name`, `server`, labels).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clusters: Option<ClusterGenerator>,
    /// Parameter sets from directories or files in a Git repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<GitGenerator>,
    /// Cartesian product of two generators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::any_object")]
    pub matrix: Option<serde_json::Value>,
    /// Merge of generators by keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::any_object")]
    pub merge: Option<serde_json::Value>,
    /// Repositories of an SCM provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::any_object")]
    pub scm_provider: Option<serde_json::Value>,
    /// Open pull requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::any_object")]
    pub pull_request: Option<serde_json::Value>,
    /// A duck-typed cluster decision resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::any_object")]
    pub cluster_decision_resource: Option<serde_json::Value>,
    /// A generator plugin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::any_object")]
    pub plugin: Option<serde_json::Value>,
}

impl ApplicationSetGenerator {
    /// The generator kinds this element sets, by their field names (`list`, `git`, ...), in
    /// declaration order: exactly one in a valid generator.
    #[must_use]
    pub fn kinds(&self) -> Vec<&'static str> {
        crate::meta::set_fields([
            ("list", self.list.is_some()),
            ("clusters", self.clusters.is_some()),
            ("git", self.git.is_some()),
            ("matrix", self.matrix.is_some()),
            ("merge", self.merge.is_some()),
            ("scmProvider", self.scm_provider.is_some()),
            ("pullRequest", self.pull_request.is_some()),
            ("clusterDecisionResource", self.cluster_decision_resource.is_some()),
            ("plugin", self.plugin.is_some()),
        ])
    }
}

/// A literal list of parameter sets.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListGenerator {
    /// Parameter sets: each element is an object of parameters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "crate::schema::any_object_list")]
    pub elements: Vec<serde_json::Value>,
    /// More elements, as a YAML (or JSON) list in a string (usually itself templated by a matrix).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elements_yaml: Option<String>,
    /// Template overriding the set's template for these elements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::any_object")]
    pub template: Option<serde_json::Value>,
}

/// One parameter set per cluster.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClusterGenerator {
    /// Only clusters whose labels match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<LabelSelector>,
    /// Extra parameters, available as `{{values.NAME}}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub values: BTreeMap<String, String>,
}

/// Parameter sets from a Git repository.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GitGenerator {
    /// Repository URL.
    #[serde(default, rename = "repoURL")]
    pub repo_url: String,
    /// Branch, tag or commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// One parameter set per matching directory (`{{path}}`, `{{path.basename}}`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub directories: Vec<GitDirectoryItem>,
    /// One parameter set per matching JSON/YAML file, from its content.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<GitFileItem>,
    /// Prefix for the path parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_param_prefix: Option<String>,
    /// Extra parameters, available as `{{values.NAME}}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub values: BTreeMap<String, String>,
    /// How often to poll the repository, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requeue_after_seconds: Option<i64>,
}

/// A directory pattern.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GitDirectoryItem {
    /// Glob, e.g. `apps/*`.
    pub path: String,
    /// Exclude matching directories instead of including them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude: Option<bool>,
}

/// A file pattern.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GitFileItem {
    /// Glob, e.g. `clusters/*/config.json`.
    pub path: String,
    /// Exclude matching files instead of including them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude: Option<bool>,
}

/// The Application template of a set.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationSetTemplate {
    /// Metadata of each generated Application.
    #[serde(default)]
    pub metadata: ApplicationSetTemplateMeta,
    /// Spec of each generated Application.
    #[serde(default)]
    pub spec: ApplicationSpec,
}

/// Metadata of generated Applications.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationSetTemplateMeta {
    /// Name (usually with placeholders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Finalizers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub finalizers: Vec<String>,
}

/// Observed state of an ApplicationSet.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationSetStatus {
    /// Conditions such as `ErrorOccurred` or `ResourcesUpToDate`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "crate::schema::any_object_list")]
    pub conditions: Vec<serde_json::Value>,
    /// Generated Applications.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "crate::schema::any_object_list")]
    pub resources: Vec<serde_json::Value>,
}
