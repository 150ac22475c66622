//! The patches each command makes (those of Argo's `kubectl-argo-rollouts`, `pkg/kubectl-argo-rollouts/cmd/`), as pure functions of the Rollout: what a command
//! writes is decided here and tested without a cluster.

use crds::Rollout;
use crds::analysis::AnalysisPhase;
use serde_json::{Value, json};

/// Where a patch goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// The main resource, as a JSON merge patch.
    Spec,
    /// The `/status` subresource, as a JSON merge patch.
    Status,
    /// The main resource, as a JSON patch (RFC 6902).
    JsonPatch,
}

/// A command's writes and the one line it prints.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    /// Patches in order.
    pub patches: Vec<(Target, Value)>,
    /// What was done, in one line.
    pub said: String,
}

/// Why a command has nothing to do.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The Rollout is stable and not paused.
    #[error("rollout '{0}' has nothing to promote: it is not paused and its stable version is the desired one")]
    NothingToPromote(String),
    /// `abort` on an aborted Rollout.
    #[error("rollout '{0}' is already aborted")]
    AlreadyAborted(String),
    /// `retry` on a Rollout that is not aborted.
    #[error("rollout '{0}' is not aborted: nothing to retry")]
    NotAborted(String),
    /// `set image` naming a container the template does not have.
    #[error("rollout '{name}' has no container '{container}' (it has: {have})")]
    NoSuchContainer {
        /// Rollout.
        name: String,
        /// Container asked for.
        container: String,
        /// Containers it has.
        have: String,
    },
    /// `undo` to a revision that does not exist.
    #[error("rollout '{name}' has no revision {revision} (it has: {have})")]
    NoSuchRevision {
        /// Rollout.
        name: String,
        /// Revision asked for.
        revision: i64,
        /// Revisions it has.
        have: String,
    },
    /// `set image` with a malformed argument.
    #[error("expected CONTAINER=IMAGE, got '{0}'")]
    BadImageArgument(String),
}

fn name(rollout: &Rollout) -> String {
    rollout.metadata.name.clone().unwrap_or_default()
}

/// `promote` (`--full`): resume a pause or skip the current step; with `full`, skip everything.
///
/// # Errors
/// [`Refusal::NothingToPromote`].
pub fn promote(rollout: &Rollout, full: bool) -> Result<Change, Refusal> {
    let n = name(rollout);
    let status = rollout.status.clone().unwrap_or_default();
    let paused = rollout.spec.paused == Some(true);
    let mut patches = Vec::new();
    if paused {
        patches.push((Target::Spec, json!({"spec": {"paused": false}})));
    }
    let updating = status.current_pod_hash.is_some() && status.current_pod_hash != status.stable_rs;
    if full {
        if updating {
            patches.push((Target::Status, json!({"status": {"promoteFull": true}})));
        }
        if patches.is_empty() {
            return Err(Refusal::NothingToPromote(n));
        }
        return Ok(Change {
            patches,
            said: format!("rollout '{n}' fully promoted"),
        });
    }
    if !status.pause_conditions.is_empty() {
        let inconclusive = status
            .canary
            .as_ref()
            .and_then(|c| c.current_step_analysis_run_status.as_ref())
            .is_some_and(|r| r.status == Some(AnalysisPhase::Inconclusive));
        let patch = if inconclusive {
            json!({"status": {"pauseConditions": null, "controllerPause": false, "currentStepIndex": status.current_step_index.unwrap_or(0) + 1}})
        } else {
            json!({"status": {"pauseConditions": null}})
        };
        patches.push((Target::Status, patch));
    } else if rollout.canary().is_some() && updating {
        let count = rollout.step_count();
        let index = status.current_step_index.unwrap_or(0);
        if index < count {
            patches.push((
                Target::Status,
                json!({"status": {"pauseConditions": null, "currentStepIndex": index + 1}}),
            ));
        }
    }
    if patches.is_empty() {
        return Err(Refusal::NothingToPromote(n));
    }
    Ok(Change {
        patches,
        said: format!("rollout '{n}' promoted"),
    })
}

/// `abort`.
///
/// # Errors
/// [`Refusal::AlreadyAborted`].
pub fn abort(rollout: &Rollout) -> Result<Change, Refusal> {
    let n = name(rollout);
    if rollout.status.as_ref().and_then(|s| s.abort) == Some(true) {
        return Err(Refusal::AlreadyAborted(n));
    }
    Ok(Change {
        patches: vec![(Target::Status, json!({"status": {"abort": true}}))],
        said: format!("rollout '{n}' aborted"),
    })
}

/// `retry rollout`.
///
/// # Errors
/// [`Refusal::NotAborted`].
pub fn retry(rollout: &Rollout) -> Result<Change, Refusal> {
    let n = name(rollout);
    if rollout.status.as_ref().and_then(|s| s.abort) != Some(true) {
        return Err(Refusal::NotAborted(n));
    }
    Ok(Change {
        patches: vec![(Target::Status, json!({"status": {"abort": false}}))],
        said: format!("rollout '{n}' retried"),
    })
}

/// `pause`.
#[must_use]
pub fn pause(rollout: &Rollout) -> Change {
    Change {
        patches: vec![(Target::Spec, json!({"spec": {"paused": true}}))],
        said: format!("rollout '{}' paused", name(rollout)),
    }
}

/// `restart [--in]`: restart at `at` (RFC 3339, UTC).
#[must_use]
pub fn restart(rollout: &Rollout, at: jiff::Timestamp) -> Change {
    let at = at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    Change {
        patches: vec![(Target::Spec, json!({"spec": {"restartAt": at}}))],
        said: format!("rollout '{}' restarts at {at}", name(rollout)),
    }
}

/// `set image CONTAINER=IMAGE` (`*` for every container, init containers included).
///
/// # Errors
/// A malformed argument or an unknown container.
pub fn set_image(rollout: &Rollout, argument: &str) -> Result<Change, Refusal> {
    let n = name(rollout);
    let Some((container, image)) = argument.split_once('=').filter(|(c, i)| !c.is_empty() && !i.is_empty()) else {
        return Err(Refusal::BadImageArgument(argument.to_string()));
    };
    let mut template = serde_json::to_value(rollout.spec.template.clone().unwrap_or_default()).unwrap_or(Value::Null);
    let mut found = Vec::new();
    let mut changed = false;
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        if let Some(items) = template
            .pointer_mut(&format!("/spec/{list}"))
            .and_then(Value::as_array_mut)
        {
            for c in items {
                let cname = c.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
                found.push(cname.clone());
                if container == "*" || cname == container {
                    c["image"] = json!(image);
                    changed = true;
                }
            }
        }
    }
    if !changed {
        return Err(Refusal::NoSuchContainer {
            name: n,
            container: container.to_string(),
            have: found.join(", "),
        });
    }
    Ok(Change {
        patches: vec![(Target::Spec, json!({"spec": {"template": template}}))],
        said: format!("rollout '{n}' image updated"),
    })
}

/// `undo [--to-revision N]`: the template of revision N (default: the one before the current),
/// hash label removed, as a JSON patch replacing `/spec/template`.
///
/// # Errors
/// [`Refusal::NoSuchRevision`].
pub fn undo(
    rollout: &Rollout,
    replicasets: &[k8s_openapi::api::apps::v1::ReplicaSet],
    to_revision: Option<i64>,
) -> Result<Change, Refusal> {
    let n = name(rollout);
    let revision_of = |rs: &k8s_openapi::api::apps::v1::ReplicaSet| crds::keys::revision(&rs.metadata);
    let mut revisions: Vec<i64> = replicasets.iter().map(revision_of).collect();
    revisions.sort_unstable();
    let target = match to_revision {
        Some(r) => Some(r),
        None => revisions.iter().rev().nth(1).copied(),
    };
    let rs = target.and_then(|t| replicasets.iter().find(|rs| revision_of(rs) == t));
    let Some(rs) = rs else {
        return Err(Refusal::NoSuchRevision {
            name: n,
            revision: target.unwrap_or(0),
            have: revisions.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
        });
    };
    let mut template = serde_json::to_value(rs.spec.template.clone().unwrap_or_default()).unwrap_or(Value::Null);
    if let Some(labels) = template.pointer_mut("/metadata/labels").and_then(Value::as_object_mut) {
        labels.remove(crds::keys::HASH_LABEL);
    }
    Ok(Change {
        patches: vec![(
            Target::JsonPatch,
            json!([{"op": "replace", "path": "/spec/template", "value": template}]),
        )],
        said: format!("rollout '{n}' rolled back to revision {}", revision_of(rs)),
    })
}
