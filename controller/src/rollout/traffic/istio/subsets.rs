//! Istio's subset-level splitting (Argo's `UpdateHash`): the DestinationRule's canary and stable
//! subsets select their pods by `rollouts-pod-template-hash`, set to the pods' hashes.

use crds::Rollout;
use crds::keys::HASH_LABEL;
use serde_json::{Value, json};

use super::destination_rule;
use crate::rollout::traffic::{RouteError, RouteTarget, Split};

/// The JSON Patch that gives the DestinationRule's canary and stable subsets the pods' hashes
/// (empty when they have them, or when a hash is not known yet).
///
/// # Errors
/// [`RouteError::NoSubset`] when a subset the Rollout names is missing.
pub fn subset_patch(
    target: &RouteTarget,
    rollout: &Rollout,
    object: &Value,
    split: &Split<'_>,
) -> Result<Vec<Value>, RouteError> {
    let Some(rule) = destination_rule(rollout) else {
        return Ok(Vec::new());
    };
    let subsets: Vec<&Value> = object
        .pointer("/spec/subsets")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let mut ops = Vec::new();
    let canary_hash = split.pods.canary.or(split.pods.stable);
    for (name, hash) in [
        (&rule.canary_subset_name, canary_hash),
        (&rule.stable_subset_name, split.pods.stable),
    ] {
        let Some(i) = subsets
            .iter()
            .position(|s| s.get("name").and_then(Value::as_str) == Some(name))
        else {
            return Err(RouteError::NoSubset {
                target: Box::new(target.clone()),
                subset: name.clone(),
            });
        };
        let Some(hash) = hash else { continue };
        let labels = subsets[i].get("labels");
        if labels.and_then(|l| l.get(HASH_LABEL)).and_then(Value::as_str) == Some(hash) {
            continue;
        }
        let at = format!("/spec/subsets/{i}");
        ops.push(json!({"op": "test", "path": format!("{at}/name"), "value": name}));
        if labels.is_some_and(Value::is_object) {
            ops.push(json!({"op": "add", "path": format!("{at}/labels/{HASH_LABEL}"), "value": hash}));
        } else {
            ops.push(json!({"op": "add", "path": format!("{at}/labels"), "value": {HASH_LABEL: hash}}));
        }
    }
    Ok(ops)
}
