//! The order resources are applied in within a wave: gitops-engine's kind order (Helm's install
//! order), namespaces and CRDs first, unknown kinds last; then by name.

/// Kinds in the order they are applied.
const KIND_ORDER: &[&str] = &[
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
];

/// The rank of a kind in the apply order (unknown kinds after every known one).
#[must_use]
pub fn kind_rank(kind: &str) -> usize {
    KIND_ORDER.iter().position(|k| *k == kind).unwrap_or(KIND_ORDER.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_and_config_come_before_workloads_and_unknown_kinds_last() {
        assert!(kind_rank("Namespace") < kind_rank("ConfigMap"));
        assert!(kind_rank("CustomResourceDefinition") < kind_rank("Deployment"));
        assert!(kind_rank("Service") < kind_rank("Deployment"));
        assert!(kind_rank("Deployment") < kind_rank("Ingress"));
        assert_eq!(kind_rank("Rollout"), kind_rank("AnalysisTemplate"));
        assert!(kind_rank("APIService") < kind_rank("Rollout"));
    }
}
