//! Service selectors (Argo's `reconcileStableAndCanaryService` and `switchServiceSelector`, `rollout/service.go`): the controller adds `rollouts-pod-template-hash: <hash>` to the
//! selector of the Services a Rollout names. A Service it does not manage yet is only switched once
//! the target ReplicaSet is fully available; afterwards once it has an available pod.

use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Service;

use super::Pass;
use crate::rollout::identity::{available, hash_of, spec_replicas};
use crate::rollout::plan::{Action, Event, reason};
use crds::keys::{HASH_LABEL, MANAGED_BY_ANNOTATION};

/// The hash a Service selects, if any.
#[must_use]
pub fn selected_hash(service: &Service) -> Option<&str> {
    service
        .spec
        .as_ref()?
        .selector
        .as_ref()?
        .get(HASH_LABEL)
        .map(String::as_str)
}

fn managed(service: &Service) -> bool {
    service
        .metadata
        .annotations
        .as_ref()
        .is_some_and(|a| a.contains_key(MANAGED_BY_ANNOTATION))
}

/// Points `name` at `hash`, checking the target's availability unless `force`. Returns the hash the
/// Service selects after this pass.
pub fn point(pass: &mut Pass<'_>, name: &str, hash: &str, target: Option<&ReplicaSet>, force: bool) -> Option<String> {
    let service = pass.snap.services.get(name)?;
    let current = selected_hash(service).map(str::to_owned);
    if current.as_deref() == Some(hash) {
        return current;
    }
    if !force {
        let ready = target.is_some_and(|rs| {
            if managed(service) {
                available(rs) > 0
            } else {
                available(rs) >= spec_replicas(rs) && spec_replicas(rs) > 0
            }
        });
        if !ready {
            return current;
        }
    }
    pass.plan.actions.push(Action::SwitchService {
        name: name.to_string(),
        hash: hash.to_string(),
    });
    pass.event(Event::normal(
        reason::SWITCH_SERVICE,
        format!(
            "Switched selector for service '{name}' from '{}' to '{hash}'",
            current.unwrap_or_default()
        ),
    ));
    Some(hash.to_string())
}

/// Canary: the stable Service follows the stable ReplicaSet, the canary Service the new one (the
/// stable one after an abort).
pub fn canary(pass: &mut Pass<'_>) {
    let Some(canary) = pass.rollout.spec.strategy.as_ref().and_then(|s| s.canary.clone()) else {
        return;
    };
    let stable = pass.sets.stable;
    if let (Some(name), Some(rs)) = (canary.stable_service.as_deref(), stable)
        && let Some(hash) = hash_of(rs)
    {
        point(pass, name, hash, Some(rs), false);
    }
    if let Some(name) = canary.canary_service.as_deref() {
        let target = if pass.pause.is_aborted() {
            stable
        } else {
            pass.sets.new.or(stable)
        };
        if let Some(rs) = target
            && let Some(hash) = hash_of(rs)
        {
            point(pass, name, hash, Some(rs), false);
        }
    }
}
