//! What a controller instance handles: one namespace or all, and its controller instance id.

use crds::keys::INSTANCE_ID_LABEL;
use kube::Api;

/// The objects one controller instance handles.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scope {
    /// Only this namespace (`None`: every namespace).
    pub namespace: Option<String>,
    /// Only objects labelled with this controller instance id (`None`: only unlabelled objects).
    pub instance_id: Option<String>,
}

impl Scope {
    /// Every namespace, no instance id.
    #[must_use]
    pub fn cluster() -> Self {
        Self::default()
    }

    /// One namespace, no instance id.
    #[must_use]
    pub fn namespace(namespace: impl Into<String>) -> Self {
        Self {
            namespace: Some(namespace.into()),
            instance_id: None,
        }
    }

    /// The label selector of the objects this instance handles: its own id, or no id at all
    /// (Argo's `controller-instance-id` semantics).
    #[must_use]
    pub fn instance_selector(&self) -> String {
        match &self.instance_id {
            Some(id) => format!("{INSTANCE_ID_LABEL}={id}"),
            None => format!("!{INSTANCE_ID_LABEL}"),
        }
    }

    /// An API for a namespaced kind within the scope.
    #[must_use]
    pub fn api<K>(&self, client: &kube::Client) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        K::DynamicType: Default,
    {
        match &self.namespace {
            Some(ns) => Api::namespaced(client.clone(), ns),
            None => Api::all(client.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_instance_selector_takes_labelled_or_unlabelled_objects() {
        assert_eq!(
            Scope::cluster().instance_selector(),
            "!argo-rollouts.argoproj.io/controller-instance-id"
        );
        let scope = Scope {
            namespace: None,
            instance_id: Some("blue".into()),
        };
        assert_eq!(
            scope.instance_selector(),
            "argo-rollouts.argoproj.io/controller-instance-id=blue"
        );
    }
}
