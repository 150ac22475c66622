//! The resource types the server knows: built-in kinds and those registered by CRDs.

use serde_json::Value;

/// Scale subresource paths (CRD `subresources.scale`, or the built-in workload ones).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScalePaths {
    /// JSON path of the desired replicas, e.g. `.spec.replicas`.
    pub spec_replicas: String,
    /// JSON path of the observed replicas, e.g. `.status.replicas`.
    pub status_replicas: String,
    /// JSON path of the selector string, if any.
    pub label_selector: Option<String>,
}

/// A served resource type.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceType {
    /// API group; empty for the core group.
    pub group: String,
    /// Served version.
    pub version: String,
    /// Plural resource name used in URLs.
    pub plural: String,
    /// Singular name.
    pub singular: String,
    /// Kind.
    pub kind: String,
    /// Whether objects live in namespaces.
    pub namespaced: bool,
    /// Short names for kubectl.
    pub short_names: Vec<String>,
    /// Categories (e.g. `all`).
    pub categories: Vec<String>,
    /// Whether `status` is a subresource (writes to the main resource ignore it).
    pub status_subresource: bool,
    /// The scale subresource, if served.
    pub scale: Option<ScalePaths>,
    /// CRD printer columns, for Table output.
    pub printer_columns: Vec<Value>,
    /// The structural schema of a custom resource, if any; shared, since every request on the
    /// type carries a copy of its `ResourceType`.
    pub schema: Option<std::sync::Arc<Value>>,
    /// True for types registered by a CustomResourceDefinition.
    pub custom: bool,
}

impl ResourceType {
    /// `group/version`, or `version` for the core group.
    #[must_use]
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `plural.group`, or `plural` for the core group, as Kubernetes names resources in messages.
    #[must_use]
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// The kind of a list of these objects.
    #[must_use]
    pub fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }
}

struct Builtin {
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    kind: &'static str,
    namespaced: bool,
    short: &'static [&'static str],
    status: bool,
    scale: bool,
    categories: &'static [&'static str],
}

const BUILTINS: &[Builtin] = &[
    b("", "v1", "namespaces", "Namespace", false, &["ns"], true, false, &[]),
    b("", "v1", "pods", "Pod", true, &["po"], true, false, &["all"]),
    b("", "v1", "services", "Service", true, &["svc"], true, false, &["all"]),
    b("", "v1", "endpoints", "Endpoints", true, &["ep"], false, false, &[]),
    b("", "v1", "configmaps", "ConfigMap", true, &["cm"], false, false, &[]),
    b("", "v1", "secrets", "Secret", true, &[], false, false, &[]),
    b(
        "",
        "v1",
        "serviceaccounts",
        "ServiceAccount",
        true,
        &["sa"],
        false,
        false,
        &[],
    ),
    b("", "v1", "events", "Event", true, &["ev"], false, false, &[]),
    b("", "v1", "nodes", "Node", false, &["no"], true, false, &[]),
    b(
        "events.k8s.io",
        "v1",
        "events",
        "Event",
        true,
        &["ev"],
        false,
        false,
        &[],
    ),
    b(
        "apps",
        "v1",
        "deployments",
        "Deployment",
        true,
        &["deploy"],
        true,
        true,
        &["all"],
    ),
    b(
        "apps",
        "v1",
        "replicasets",
        "ReplicaSet",
        true,
        &["rs"],
        true,
        true,
        &["all"],
    ),
    b(
        "apps",
        "v1",
        "statefulsets",
        "StatefulSet",
        true,
        &["sts"],
        true,
        true,
        &["all"],
    ),
    b(
        "apps",
        "v1",
        "daemonsets",
        "DaemonSet",
        true,
        &["ds"],
        true,
        false,
        &["all"],
    ),
    b("batch", "v1", "jobs", "Job", true, &[], true, false, &["all"]),
    b(
        "coordination.k8s.io",
        "v1",
        "leases",
        "Lease",
        true,
        &[],
        false,
        false,
        &[],
    ),
    b(
        "discovery.k8s.io",
        "v1",
        "endpointslices",
        "EndpointSlice",
        true,
        &[],
        false,
        false,
        &[],
    ),
    b(
        "networking.k8s.io",
        "v1",
        "ingresses",
        "Ingress",
        true,
        &["ing"],
        true,
        false,
        &[],
    ),
    b(
        "policy",
        "v1",
        "poddisruptionbudgets",
        "PodDisruptionBudget",
        true,
        &["pdb"],
        true,
        false,
        &[],
    ),
    b(
        "rbac.authorization.k8s.io",
        "v1",
        "roles",
        "Role",
        true,
        &[],
        false,
        false,
        &[],
    ),
    b(
        "rbac.authorization.k8s.io",
        "v1",
        "rolebindings",
        "RoleBinding",
        true,
        &[],
        false,
        false,
        &[],
    ),
    b(
        "rbac.authorization.k8s.io",
        "v1",
        "clusterroles",
        "ClusterRole",
        false,
        &[],
        false,
        false,
        &[],
    ),
    b(
        "rbac.authorization.k8s.io",
        "v1",
        "clusterrolebindings",
        "ClusterRoleBinding",
        false,
        &[],
        false,
        false,
        &[],
    ),
    b(
        "authorization.k8s.io",
        "v1",
        "selfsubjectaccessreviews",
        "SelfSubjectAccessReview",
        false,
        &[],
        false,
        false,
        &[],
    ),
    b(
        "admissionregistration.k8s.io",
        "v1",
        "mutatingwebhookconfigurations",
        "MutatingWebhookConfiguration",
        false,
        &[],
        false,
        false,
        &[],
    ),
    b(
        "admissionregistration.k8s.io",
        "v1",
        "validatingwebhookconfigurations",
        "ValidatingWebhookConfiguration",
        false,
        &[],
        false,
        false,
        &[],
    ),
    b(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        false,
        &["crd", "crds"],
        true,
        false,
        &[],
    ),
];

#[allow(clippy::too_many_arguments, clippy::fn_params_excessive_bools)] // a table row, read in one line
const fn b(
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    kind: &'static str,
    namespaced: bool,
    short: &'static [&'static str],
    status: bool,
    scale: bool,
    categories: &'static [&'static str],
) -> Builtin {
    Builtin {
        group,
        version,
        plural,
        kind,
        namespaced,
        short,
        status,
        scale,
        categories,
    }
}

/// The built-in resource types.
#[must_use]
pub fn builtins() -> Vec<ResourceType> {
    BUILTINS
        .iter()
        .map(|b| ResourceType {
            group: b.group.to_owned(),
            version: b.version.to_owned(),
            plural: b.plural.to_owned(),
            singular: b.kind.to_lowercase(),
            kind: b.kind.to_owned(),
            namespaced: b.namespaced,
            short_names: b.short.iter().map(|s| (*s).to_owned()).collect(),
            categories: b.categories.iter().map(|s| (*s).to_owned()).collect(),
            status_subresource: b.status,
            scale: b.scale.then(|| ScalePaths {
                spec_replicas: ".spec.replicas".into(),
                status_replicas: ".status.replicas".into(),
                label_selector: Some(".status.selector".into()),
            }),
            printer_columns: Vec::new(),
            schema: None,
            custom: false,
        })
        .collect()
}
