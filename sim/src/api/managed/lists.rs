//! How server-side apply treats a list: merged by key, merged as a set, or replaced whole.

/// The merge semantics of a list field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListKind {
    /// Items are identified by these keys and merged (`x-kubernetes-list-type: map`).
    Map(&'static [&'static str]),
    /// Items are unique scalars and merged (`x-kubernetes-list-type: set`).
    Set,
    /// The list is replaced whole by its owner.
    Atomic,
}

/// The value of the merge key `key` of a list item, with the schema default kube-apiserver gives
/// an omitted key (structured-merge-diff defaults key fields: `protocol` is `TCP`), so an applied
/// `{containerPort: 80}` is the live `{containerPort: 80, protocol: TCP}` and not a second port.
#[must_use]
pub fn key_value(item: &serde_json::Value, key: &str) -> Option<serde_json::Value> {
    item.get(key)
        .cloned()
        .or_else(|| (key == "protocol").then(|| serde_json::Value::from("TCP")))
}

/// The semantics of a list named `field` under `parent` (a dotted path). Built-in kinds use the
/// merge keys of the Kubernetes API; custom resources treat lists as atomic, as Kubernetes does
/// when a CRD schema declares no list type.
#[must_use]
pub fn list_kind(field: &str, parent: &str, custom: bool) -> ListKind {
    if field == "finalizers" && (parent.is_empty() || parent == ".metadata") {
        return ListKind::Set;
    }
    if parent == ".metadata" && field == "ownerReferences" {
        return ListKind::Map(&["uid"]);
    }
    if custom {
        return ListKind::Atomic;
    }
    let in_container = parent.ends_with(".containers.[]") || parent.ends_with("Containers.[]");
    match field {
        "containers" | "initContainers" | "ephemeralContainers" | "env" | "volumes" | "imagePullSecrets" => {
            ListKind::Map(&["name"])
        }
        "volumeMounts" => ListKind::Map(&["mountPath"]),
        "ports" if in_container => ListKind::Map(&["containerPort", "protocol"]),
        "ports" => ListKind::Map(&["port", "protocol"]),
        "conditions" => ListKind::Map(&["type"]),
        "hostAliases" => ListKind::Map(&["ip"]),
        _ => ListKind::Atomic,
    }
}
