//! Router objects the Rollout creates and owns (NGINX's canary Ingress, SMI's TrafficSplit): a
//! controller ownerReference to the Rollout, so they go when it goes; refused when an object of
//! that name is controlled by something else (Argo's `metav1.IsControlledBy` checks in
//! `nginx.go` and `smi.go`); written whole by server-side apply only when the live object lacks
//! part of what is wanted, so an unchanged split costs no write.

use crds::Rollout;
use serde_json::{Value, json};

use super::{RouteError, RouteTarget, RouteWrite};

/// The controller ownerReference naming `rollout`.
#[must_use]
pub fn owner_reference(rollout: &Rollout) -> Value {
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "name": rollout.metadata.name.clone().unwrap_or_default(),
        "uid": rollout.metadata.uid.clone().unwrap_or_default(),
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

/// The controller of `object`, as `Kind/name` with its uid.
fn controller_of(object: &Value) -> Option<(String, String)> {
    let owners = object.pointer("/metadata/ownerReferences")?.as_array()?;
    let owner = owners
        .iter()
        .find(|o| o.get("controller").and_then(Value::as_bool) == Some(true))?;
    let text = |k: &str| owner.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    Some((format!("{}/{}", text("kind"), text("name")), text("uid")))
}

pub use crate::merge_patch::covers;

/// The write that makes the live object (if any) the `wanted` one.
///
/// # Errors
/// [`RouteError::NotOurs`] when the live object is controlled by something other than `rollout`.
pub fn write(
    target: &RouteTarget,
    rollout: &Rollout,
    live: Option<&Value>,
    wanted: Value,
) -> Result<Option<RouteWrite>, RouteError> {
    if let Some(live) = live {
        let uid = rollout.metadata.uid.clone().unwrap_or_default();
        match controller_of(live) {
            Some((_, owner_uid)) if owner_uid == uid => {}
            other => {
                return Err(RouteError::NotOurs {
                    target: Box::new(target.clone()),
                    owner: other.map_or_else(|| "no controller".to_owned(), |(name, _)| name),
                });
            }
        }
        if covers(live, &wanted) {
            return Ok(None);
        }
    }
    Ok(Some(RouteWrite::Apply(wanted)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers_ignores_what_only_the_live_object_has_but_not_a_changed_or_missing_field() {
        let live = json!({"metadata": {"name": "a", "uid": "1", "annotations": {"x": "1", "y": "2"}},
            "spec": {"rules": [{"host": "h", "extra": true}]}});
        assert!(covers(&live, &json!({"metadata": {"annotations": {"x": "1"}}})));
        assert!(covers(&live, &json!({"spec": {"rules": [{"host": "h"}]}})));
        assert!(!covers(&live, &json!({"metadata": {"annotations": {"x": "2"}}})));
        assert!(!covers(&live, &json!({"metadata": {"labels": {"x": "1"}}})));
        assert!(!covers(
            &live,
            &json!({"spec": {"rules": [{"host": "h"}, {"host": "i"}]}})
        ));
    }
}
