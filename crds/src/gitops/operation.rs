//! The `operation` field of an Application (beside `spec` and `status`, as Argo CD stores it): a
//! sync asked for by a person (`kubectl sluice app sync`, `argocd app sync`) or started by the
//! automated policy, and [`StoredApplication`], the Application with that field, which the
//! reconciler reads (the derived [`super::Application`] type has only `spec` and `status`).

use std::borrow::Cow;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Application, ApplicationSpec, ApplicationStatus, RetryStrategy};

/// A requested operation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    /// A sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync: Option<SyncOperation>,
    /// Who asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initiated_by: Option<OperationInitiator>,
    /// Retries of this operation (default: the sync policy's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryStrategy>,
}

/// What a sync does.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncOperation {
    /// Revision to sync (default: the target revision).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// Delete resources no longer in Git.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prune: Option<bool>,
    /// Only report what would be done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
    /// Sync options for this sync, added to the policy's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sync_options: Vec<String>,
    /// Only these resources (default: all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<SyncOperationResource>,
}

/// One resource a partial sync names.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncOperationResource {
    /// API group.
    #[serde(default)]
    pub group: String,
    /// Kind.
    pub kind: String,
    /// Name.
    pub name: String,
    /// Namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// Who started an operation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OperationInitiator {
    /// The user who asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Started by the automated sync policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automated: Option<bool>,
}

/// An Application as stored: metadata, `spec`, `status` and the pending `operation`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StoredApplication {
    /// Metadata.
    pub metadata: ObjectMeta,
    /// Desired state.
    pub spec: ApplicationSpec,
    /// Observed state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ApplicationStatus>,
    /// A requested operation, cleared when it starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<Operation>,
}

impl kube::Resource for StoredApplication {
    type DynamicType = ();
    type Scope = k8s_openapi::NamespaceResourceScope;

    fn kind(dt: &()) -> Cow<'_, str> {
        Application::kind(dt)
    }

    fn group(dt: &()) -> Cow<'_, str> {
        Application::group(dt)
    }

    fn version(dt: &()) -> Cow<'_, str> {
        Application::version(dt)
    }

    fn plural(dt: &()) -> Cow<'_, str> {
        Application::plural(dt)
    }

    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }

    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}
