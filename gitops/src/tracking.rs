//! Which Application a resource belongs to, by Argo CD 3.x's default annotation tracking:
//! `argocd.argoproj.io/tracking-id: <app>:<group>/<kind>:<namespace>/<name>`. An annotation copied
//! onto another object (the id names a different object) does not make it tracked, as Argo CD's
//! `IsTrackingIdValid` decides.

use serde_json::Value;

pub use crds::keys::TRACKING_ID;

/// What a resource is, for its tracking id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceKey {
    /// API group (`""` for core).
    pub group: String,
    /// Kind.
    pub kind: String,
    /// Namespace (`""` when cluster-scoped).
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl ResourceKey {
    /// The key of an object as JSON.
    #[must_use]
    pub fn of(object: &Value) -> Self {
        let text = |p: &str| object.pointer(p).and_then(Value::as_str).unwrap_or_default().to_owned();
        let api_version = text("/apiVersion");
        Self {
            group: api_version.rsplit_once('/').map_or("", |(g, _)| g).to_owned(),
            kind: text("/kind"),
            namespace: text("/metadata/namespace"),
            name: text("/metadata/name"),
        }
    }
}

impl std::fmt::Display for ResourceKey {
    /// `group/Kind/namespace/name`, the key the controller and the plugin name a resource by.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}/{}", self.group, self.kind, self.namespace, self.name)
    }
}

/// The tracking id Application `app` writes on the resource `key`.
#[must_use]
pub fn tracking_id(app: &str, key: &ResourceKey) -> String {
    format!("{app}:{}/{}:{}/{}", key.group, key.kind, key.namespace, key.name)
}

/// A tracking id read back: the application and the resource it names.
#[must_use]
pub fn parse(id: &str) -> Option<(String, ResourceKey)> {
    let (app, rest) = id.split_once(':')?;
    let (group_kind, namespace_name) = rest.split_once(':')?;
    let (group, kind) = group_kind.split_once('/')?;
    let (namespace, name) = namespace_name.split_once('/')?;
    if app.is_empty() || kind.is_empty() || name.is_empty() {
        return None;
    }
    Some((
        app.to_owned(),
        ResourceKey {
            group: group.to_owned(),
            kind: kind.to_owned(),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        },
    ))
}

/// The Application an object is tracked by, when its tracking id is valid for it.
#[must_use]
pub fn tracked_by(object: &Value) -> Option<String> {
    let id = object
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(TRACKING_ID))
        .and_then(Value::as_str)?;
    let (app, named) = parse(id)?;
    (named == ResourceKey::of(object)).then_some(app)
}

/// A rendered object as an Application applies it: in the destination `namespace` when its kind
/// is namespaced and it names none, without a namespace when cluster-scoped, and with the
/// tracking id of `app` (a hook named by `generateName` carries the prefix in its id).
#[must_use]
pub fn prepare(object: &Value, namespaced: bool, namespace: &str, app: &str) -> Value {
    let mut out = object.clone();
    if let Some(meta) = out.get_mut("metadata").and_then(Value::as_object_mut) {
        if !namespaced {
            meta.remove("namespace");
        } else if meta.get("namespace").and_then(Value::as_str).is_none_or(str::is_empty) && !namespace.is_empty() {
            meta.insert("namespace".into(), Value::from(namespace));
        }
    }
    let mut key = ResourceKey::of(&out);
    if key.name.is_empty() {
        key.name = out
            .pointer("/metadata/generateName")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
    }
    let id = tracking_id(app, &key);
    if let Some(meta) = out.get_mut("metadata").and_then(Value::as_object_mut) {
        let annotations = meta
            .entry("annotations")
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
        if let Some(map) = annotations.as_object_mut() {
            map.insert(TRACKING_ID.into(), Value::from(id));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn ids_round_trip_and_are_valid_only_on_the_object_they_name() {
        let deployment =
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"}});
        let key = ResourceKey::of(&deployment);
        let id = tracking_id("guestbook", &key);
        assert_eq!(id, "guestbook:apps/Deployment:shop/web");
        assert_eq!(parse(&id), Some(("guestbook".into(), key)));
        let namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}});
        assert_eq!(
            tracking_id("guestbook", &ResourceKey::of(&namespace)),
            "guestbook:/Namespace:/shop"
        );
        let mut tracked = deployment.clone();
        tracked["metadata"]["annotations"] = json!({TRACKING_ID: id});
        assert_eq!(tracked_by(&tracked), Some("guestbook".into()));
        let mut copied = tracked.clone();
        copied["metadata"]["name"] = json!("web-copy");
        assert_eq!(tracked_by(&copied), None, "a copied annotation is not tracking");
        assert_eq!(tracked_by(&deployment), None);
        assert_eq!(parse("no-colons"), None);
    }

    #[test]
    fn prepared_objects_land_in_the_destination_with_their_id() {
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}});
        let prepared = prepare(&cm, true, "shop", "app");
        assert_eq!(prepared["metadata"]["namespace"], "shop");
        assert_eq!(
            prepared["metadata"]["annotations"][TRACKING_ID],
            "app:/ConfigMap:shop/a"
        );
        let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x", "namespace": "ignored"}});
        assert!(
            prepare(&ns, false, "shop", "app")["metadata"]
                .get("namespace")
                .is_none()
        );
        let hook =
            json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"generateName": "smoke-", "namespace": "qa"}});
        assert_eq!(
            prepare(&hook, true, "shop", "app")["metadata"]["annotations"][TRACKING_ID],
            "app:batch/Job:qa/smoke-"
        );
    }
}
