//! What a resource's annotations say about its sync: its hook phases (Argo CD's
//! `argocd.argoproj.io/hook`, and Helm's `helm.sh/hook` mapped as Argo CD maps them), its wave,
//! its hook delete policies and its per-resource sync options.

use serde_json::Value;

pub use crds::keys::HELM_HOOK;
pub use crds::keys::HELM_HOOK_DELETE_POLICY;
pub use crds::keys::HELM_HOOK_WEIGHT;
pub use crds::keys::HOOK;
pub use crds::keys::HOOK_DELETE_POLICY;
pub use crds::keys::SYNC_OPTIONS;
pub use crds::keys::SYNC_WAVE;

/// The phases of a sync, in order (`SyncFail` only runs when a phase failed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    /// Before anything is applied.
    PreSync,
    /// With the resources.
    Sync,
    /// After every resource is synced and healthy.
    PostSync,
    /// When the sync failed.
    SyncFail,
}

/// A hook type from Argo CD's annotation (`Skip` leaves the resource out of the sync).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HookType {
    /// A phase hook.
    Phase(Phase),
    /// Not applied at all.
    Skip,
}

/// When a hook is deleted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeletePolicy {
    /// Before a new one is created (the default).
    BeforeHookCreation,
    /// Once it succeeded.
    HookSucceeded,
    /// Once it failed.
    HookFailed,
}

fn annotation<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    object.pointer("/metadata/annotations")?.get(key)?.as_str()
}

fn split(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// The hook types of a resource (`None` when it is not a hook). Helm's `pre-install`/
/// `pre-upgrade` are PreSync, `post-install`/`post-upgrade` PostSync, as Argo CD maps them; Helm's
/// other hooks (test, delete, rollback) are not run by a sync.
#[must_use]
pub fn hook_types(object: &Value) -> Option<Vec<HookType>> {
    if let Some(value) = annotation(object, HOOK) {
        let types: Vec<HookType> = split(value)
            .filter_map(|t| match t {
                "PreSync" => Some(HookType::Phase(Phase::PreSync)),
                "Sync" => Some(HookType::Phase(Phase::Sync)),
                "PostSync" => Some(HookType::Phase(Phase::PostSync)),
                "SyncFail" => Some(HookType::Phase(Phase::SyncFail)),
                "Skip" => Some(HookType::Skip),
                _ => None,
            })
            .collect();
        return (!types.is_empty()).then_some(types);
    }
    let value = annotation(object, HELM_HOOK)?;
    let mut types = Vec::new();
    for t in split(value) {
        let phase = match t {
            "pre-install" | "pre-upgrade" => Phase::PreSync,
            "post-install" | "post-upgrade" => Phase::PostSync,
            _ => continue,
        };
        if !types.contains(&HookType::Phase(phase)) {
            types.push(HookType::Phase(phase));
        }
    }
    Some(types)
}

/// The wave of a resource: `argocd.argoproj.io/sync-wave`, else Helm's hook weight for a Helm
/// hook, else 0. A value that is not a number counts as 0.
#[must_use]
pub fn wave(object: &Value) -> i64 {
    annotation(object, SYNC_WAVE)
        .or_else(|| annotation(object, HELM_HOOK).and(annotation(object, HELM_HOOK_WEIGHT)))
        .and_then(|w| w.trim().parse().ok())
        .unwrap_or(0)
}

/// The delete policies of a hook (Argo CD's annotation, else Helm's; default BeforeHookCreation).
#[must_use]
pub fn delete_policies(object: &Value) -> Vec<DeletePolicy> {
    let mut policies: Vec<DeletePolicy> = Vec::new();
    let argo = annotation(object, HOOK_DELETE_POLICY)
        .into_iter()
        .flat_map(split)
        .filter_map(|p| match p {
            "BeforeHookCreation" => Some(DeletePolicy::BeforeHookCreation),
            "HookSucceeded" => Some(DeletePolicy::HookSucceeded),
            "HookFailed" => Some(DeletePolicy::HookFailed),
            _ => None,
        });
    let helm = annotation(object, HELM_HOOK_DELETE_POLICY)
        .into_iter()
        .flat_map(split)
        .filter_map(|p| match p {
            "before-hook-creation" => Some(DeletePolicy::BeforeHookCreation),
            "hook-succeeded" => Some(DeletePolicy::HookSucceeded),
            "hook-failed" => Some(DeletePolicy::HookFailed),
            _ => None,
        });
    for policy in argo.chain(helm) {
        if !policies.contains(&policy) {
            policies.push(policy);
        }
    }
    if policies.is_empty() {
        policies.push(DeletePolicy::BeforeHookCreation);
    }
    policies
}

/// The per-resource sync options, as `(name, value)` pairs (`Prune=false` → `("Prune", "false")`).
#[must_use]
pub fn sync_options(object: &Value) -> Vec<(String, String)> {
    annotation(object, SYNC_OPTIONS)
        .into_iter()
        .flat_map(split)
        .filter_map(|o| {
            o.split_once('=')
                .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn with(annotations: Value) -> Value {
        json!({"metadata": {"annotations": annotations}})
    }

    #[test]
    fn hooks_waves_policies_and_options_are_read_as_argo_reads_them() {
        assert_eq!(hook_types(&with(json!({}))), None);
        assert_eq!(
            hook_types(&with(json!({HOOK: "PreSync,PostSync"}))),
            Some(vec![HookType::Phase(Phase::PreSync), HookType::Phase(Phase::PostSync)])
        );
        assert_eq!(hook_types(&with(json!({HOOK: "Skip"}))), Some(vec![HookType::Skip]));
        assert_eq!(
            hook_types(&with(json!({HELM_HOOK: "pre-install,pre-upgrade"}))),
            Some(vec![HookType::Phase(Phase::PreSync)])
        );
        assert_eq!(
            hook_types(&with(json!({HELM_HOOK: "test"}))),
            Some(vec![]),
            "a Helm test is a hook no sync runs"
        );
        assert_eq!(wave(&with(json!({SYNC_WAVE: "-2"}))), -2);
        assert_eq!(
            wave(&with(json!({HELM_HOOK: "post-install", HELM_HOOK_WEIGHT: "5"}))),
            5
        );
        assert_eq!(
            wave(&with(json!({HELM_HOOK_WEIGHT: "5"}))),
            0,
            "a weight without a Helm hook is no wave"
        );
        assert_eq!(wave(&with(json!({SYNC_WAVE: "soon"}))), 0);
        assert_eq!(delete_policies(&with(json!({}))), [DeletePolicy::BeforeHookCreation]);
        assert_eq!(
            delete_policies(&with(
                json!({HOOK_DELETE_POLICY: "HookSucceeded", HELM_HOOK_DELETE_POLICY: "hook-failed"})
            )),
            [DeletePolicy::HookSucceeded, DeletePolicy::HookFailed]
        );
        assert_eq!(
            sync_options(&with(json!({SYNC_OPTIONS: "Prune=false, Replace=true"}))),
            [
                ("Prune".to_owned(), "false".to_owned()),
                ("Replace".to_owned(), "true".to_owned())
            ]
        );
    }
}
