//! The `clusters` generator (Argo's `ClusterGenerator`): one parameter set per cluster Secret
//! (`argocd.argoproj.io/secret-type: cluster`) whose labels match the selector, plus the local
//! cluster `in-cluster` when no Secret names it and the selector is empty (as in Argo, selecting
//! the local cluster by label needs a Secret for it). Parameters: `name`, `nameNormalized`,
//! `server`, `metadata.labels.<key>`, `metadata.annotations.<key>` and `values.<key>` (the values
//! themselves templated with the cluster's parameters).

use std::collections::BTreeMap;

use crds::gitops::ClusterGenerator;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::{GeneratorError, Params, names, template};

pub use crds::keys::SECRET_TYPE_LABEL;
/// The controller's own cluster.
pub const IN_CLUSTER_SERVER: &str = "https://kubernetes.default.svc";

/// A cluster as its Secret declares it (credentials left out: they are not parameters).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cluster {
    /// `name`.
    pub name: String,
    /// `server`.
    pub server: String,
    /// The Secret's labels.
    pub labels: BTreeMap<String, String>,
    /// The Secret's annotations.
    pub annotations: BTreeMap<String, String>,
}

impl Cluster {
    /// The cluster a Secret declares, `None` for a Secret that is not a cluster Secret or names
    /// no server.
    #[must_use]
    pub fn from_secret(secret: &Secret) -> Option<Self> {
        let labels = secret.metadata.labels.clone().unwrap_or_default();
        if labels.get(SECRET_TYPE_LABEL).map(String::as_str) != Some("cluster") {
            return None;
        }
        let data = |key: &str| crds::secrets::text(secret, key);
        let server = data("server").filter(|s| !s.is_empty())?;
        Some(Self {
            name: data("name").unwrap_or_else(|| server.clone()),
            server,
            labels,
            annotations: secret.metadata.annotations.clone().unwrap_or_default(),
        })
    }

    /// The local cluster, when no Secret declares it.
    #[must_use]
    pub fn in_cluster() -> Self {
        Self {
            name: "in-cluster".into(),
            server: IN_CLUSTER_SERVER.into(),
            ..Self::default()
        }
    }
}

/// Whether `labels` match `selector` (`matchLabels` and `matchExpressions` with `In`, `NotIn`,
/// `Exists`, `DoesNotExist`).
///
/// # Errors
/// An unknown operator.
pub fn selects(
    selector: &LabelSelector,
    labels: &BTreeMap<String, String>,
    field: &str,
) -> Result<bool, GeneratorError> {
    let by_label = selector
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v));
    let mut by_expression = true;
    for (i, e) in selector.match_expressions.iter().flatten().enumerate() {
        let values = e.values.clone().unwrap_or_default();
        let have = labels.get(&e.key);
        by_expression &= match e.operator.as_str() {
            "In" => have.is_some_and(|v| values.contains(v)),
            "NotIn" => have.is_none_or(|v| !values.contains(v)),
            "Exists" => have.is_some(),
            "DoesNotExist" => have.is_none(),
            other => {
                return Err(GeneratorError::new(
                    format!("{field}.selector.matchExpressions[{i}].operator"),
                    format!("{other:?} is not one of In, NotIn, Exists, DoesNotExist"),
                ));
            }
        };
    }
    Ok(by_label && by_expression)
}

fn is_empty(selector: Option<&LabelSelector>) -> bool {
    selector.is_none_or(|s| {
        s.match_labels.as_ref().is_none_or(BTreeMap::is_empty) && s.match_expressions.as_ref().is_none_or(Vec::is_empty)
    })
}

/// The parameter sets of `generator` over `clusters` (from their Secrets), in name order.
///
/// # Errors
/// A selector that cannot be evaluated.
pub fn generate(
    generator: &ClusterGenerator,
    clusters: &[Cluster],
    field: &str,
) -> Result<Vec<Params>, GeneratorError> {
    let mut all: Vec<Cluster> = clusters.to_vec();
    if is_empty(generator.selector.as_ref()) && !all.iter().any(|c| c.server == IN_CLUSTER_SERVER) {
        all.push(Cluster::in_cluster());
    }
    all.sort_by(|a, b| a.name.cmp(&b.name));
    let mut sets = Vec::new();
    for cluster in all {
        if let Some(selector) = &generator.selector
            && !selects(selector, &cluster.labels, field)?
        {
            continue;
        }
        let mut params = Params::new();
        params.insert("name".into(), cluster.name.clone());
        params.insert("nameNormalized".into(), names::normalized(&cluster.name));
        params.insert("server".into(), cluster.server.clone());
        for (k, v) in &cluster.labels {
            params.insert(format!("metadata.labels.{k}"), v.clone());
        }
        for (k, v) in &cluster.annotations {
            params.insert(format!("metadata.annotations.{k}"), v.clone());
        }
        let values: Vec<(String, String)> = generator
            .values
            .iter()
            .map(|(k, v)| (format!("values.{k}"), template::substitute(v, &params)))
            .collect();
        params.extend(values);
        sets.push(params);
    }
    Ok(sets)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::json;

    pub(crate) fn secret(name: &str, server: &str, labels: serde_json::Value) -> Secret {
        let mut all = json!({"argocd.argoproj.io/secret-type": "cluster"});
        all.as_object_mut().unwrap().extend(labels.as_object().unwrap().clone());
        serde_json::from_value(json!({"metadata": {"name": format!("cluster-{name}"), "labels": all},
            "stringData": {"name": name, "server": server, "config": "{\"bearerToken\":\"secret\"}"}}))
        .unwrap()
    }

    #[test]
    fn clusters_are_selected_by_label_and_the_local_one_joins_an_unselective_generator() {
        let clusters: Vec<Cluster> = [
            secret("prod-eu", "https://eu.example:6443", json!({"env": "production"})),
            secret("staging", "https://staging.example:6443", json!({"env": "staging"})),
        ]
        .iter()
        .filter_map(Cluster::from_secret)
        .collect();
        let production: ClusterGenerator =
            serde_json::from_value(json!({"selector": {"matchLabels": {"env": "production"}},
                "values": {"alerts": "{{name}}-pager"}}))
            .unwrap();
        let sets = generate(&production, &clusters, "spec.generators[0].clusters").unwrap();
        assert_eq!(sets.len(), 1);
        assert_eq!(sets[0]["name"], "prod-eu");
        assert_eq!(sets[0]["server"], "https://eu.example:6443");
        assert_eq!(sets[0]["metadata.labels.env"], "production");
        assert_eq!(sets[0]["values.alerts"], "prod-eu-pager");
        assert!(
            !sets[0].values().any(|v| v.contains("secret")),
            "credentials are no parameters"
        );
        let all = generate(&ClusterGenerator::default(), &clusters, "g").unwrap();
        let names: Vec<&str> = all.iter().map(|p| p["name"].as_str()).collect();
        assert_eq!(names, ["in-cluster", "prod-eu", "staging"]);
        let not_staging: ClusterGenerator = serde_json::from_value(json!({"selector": {"matchExpressions": [
            {"key": "env", "operator": "NotIn", "values": ["staging"]}]}}))
        .unwrap();
        assert_eq!(generate(&not_staging, &clusters, "g").unwrap().len(), 1);
    }
}
