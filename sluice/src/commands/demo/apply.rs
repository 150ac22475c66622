//! Creating the objects of a YAML stream, whatever their kinds, through API discovery.

use kube::api::{DynamicObject, GroupVersionKind};
use kube::discovery::{Discovery, Scope};
use kube::{Api, Client};

use crate::commands::CommandError;

/// Creates every document of `yaml` in `namespace`.
///
/// # Errors
/// A document that is not an object of a served kind, or a refused create.
pub async fn create_all(client: &Client, yaml: &str, namespace: &str) -> Result<(), CommandError> {
    let fail = |what: String| CommandError::Demo(what);
    let discovery = Discovery::new(client.clone())
        .run()
        .await
        .map_err(|e| fail(format!("API discovery: {e}")))?;
    for value in crds::yaml::values(yaml).map_err(|e| fail(format!("YAML: {e}")))? {
        let object: DynamicObject = serde_json::from_value(value).map_err(|e| fail(format!("object: {e}")))?;
        let types = object
            .types
            .clone()
            .ok_or_else(|| fail("a document without apiVersion/kind".into()))?;
        let gvk = GroupVersionKind::try_from(&types).map_err(|e| fail(format!("{e}")))?;
        let (resource, capabilities) = discovery
            .resolve_gvk(&gvk)
            .ok_or_else(|| fail(format!("kind {} is not served", gvk.kind)))?;
        let api: Api<DynamicObject> = if capabilities.scope == Scope::Namespaced {
            Api::namespaced_with(client.clone(), namespace, &resource)
        } else {
            Api::all_with(client.clone(), &resource)
        };
        api.create(&crds::params::create(), &object).await.map_err(|e| {
            fail(format!(
                "creating {} {}: {e}",
                gvk.kind,
                object.metadata.name.clone().unwrap_or_default()
            ))
        })?;
    }
    Ok(())
}
