//! What an ApplicationSet may do to the Applications it generated (Argo's
//! `ApplicationsSyncPolicy` and `utils.DefaultPolicy`): `syncPolicy.applicationsSync` is
//! `create-only` (never update, never delete), `create-update` (no delete), `create-delete` (no
//! update) or `sync` (the default: everything); `syncPolicy.preserveResourcesOnDeletion` keeps an
//! Application's resources when the Application is deleted.

use serde_json::Value;

use super::GeneratorError;

/// The policy of one ApplicationSet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Existing Applications are updated to what the template renders.
    pub update: bool,
    /// Applications whose parameter set is gone are deleted.
    pub delete: bool,
    /// Generated Applications carry no resources finalizer, and one the template adds is removed
    /// before deletion: deleting the Application leaves its resources.
    pub preserve_resources: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            update: true,
            delete: true,
            preserve_resources: false,
        }
    }
}

/// The policy `sync_policy` (the ApplicationSet's `spec.syncPolicy` as written) asks for.
///
/// # Errors
/// An `applicationsSync` that is not one of the four.
pub fn of(sync_policy: Option<&Value>) -> Result<Policy, GeneratorError> {
    let mut policy = Policy::default();
    let Some(sync_policy) = sync_policy else {
        return Ok(policy);
    };
    match sync_policy.get("applicationsSync").and_then(Value::as_str) {
        None | Some("" | "sync") => {}
        Some("create-only") => (policy.update, policy.delete) = (false, false),
        Some("create-update") => policy.delete = false,
        Some("create-delete") => policy.update = false,
        Some(other) => {
            return Err(GeneratorError::new(
                "spec.syncPolicy.applicationsSync",
                format!("{other:?} is not one of create-only, create-update, create-delete, sync"),
            ));
        }
    }
    policy.preserve_resources = sync_policy
        .get("preserveResourcesOnDeletion")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    Ok(policy)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::json;

    #[test]
    fn each_applications_sync_value_allows_what_argo_allows() {
        let cases = [
            (None, (true, true)),
            (Some(json!({})), (true, true)),
            (Some(json!({"applicationsSync": "sync"})), (true, true)),
            (Some(json!({"applicationsSync": "create-only"})), (false, false)),
            (Some(json!({"applicationsSync": "create-update"})), (true, false)),
            (Some(json!({"applicationsSync": "create-delete"})), (false, true)),
        ];
        for (spec, (update, delete)) in cases {
            let policy = of(spec.as_ref()).unwrap();
            assert_eq!((policy.update, policy.delete), (update, delete), "{spec:?}");
        }
        assert!(
            of(Some(&json!({"preserveResourcesOnDeletion": true})))
                .unwrap()
                .preserve_resources
        );
        let bad = of(Some(&json!({"applicationsSync": "create-all"}))).unwrap_err();
        assert_eq!(bad.field, "spec.syncPolicy.applicationsSync");
    }
}
