//! The Deployment controller's decision: one ReplicaSet per pod-template hash, a rolling update
//! within maxSurge/maxUnavailable (or Recreate), old ReplicaSets beyond revisionHistoryLimit removed,
//! and the status with the `Available` and `Progressing` conditions, deadline included.

use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::{Value, json};

use crate::api::store::rfc3339;

/// Label carrying the template hash on ReplicaSets and pods.
pub const HASH_LABEL: &str = "pod-template-hash";
/// Annotation carrying the revision on Deployments and ReplicaSets.
pub const REVISION: &str = "deployment.kubernetes.io/revision";

/// A change to make.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// Create this ReplicaSet.
    Create(Value),
    /// Set a ReplicaSet's `spec.replicas`.
    Scale(String, i32),
    /// Delete an old, empty ReplicaSet.
    Delete(String),
}

/// What to do for one Deployment.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Decision {
    /// Changes, in order.
    pub changes: Vec<Change>,
    /// The status to write, when it changed.
    pub status: Option<Value>,
    /// When to look again (the progress deadline).
    pub requeue: Option<Duration>,
}

/// The pod-template hash of a template given as JSON (see [`crds::hash`]).
#[must_use]
pub fn template_hash(template: &Value) -> String {
    crds::hash::pod_template_hash(template, None)
}

fn revision(rs: &ReplicaSet) -> i64 {
    rs.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(REVISION))
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

fn spec_replicas(rs: &ReplicaSet) -> i32 {
    rs.spec.replicas.unwrap_or(1)
}

fn stat(rs: &ReplicaSet, f: impl Fn(&k8s_openapi::api::apps::v1::ReplicaSetStatus) -> Option<i32>) -> i32 {
    rs.status.as_ref().and_then(f).unwrap_or(0)
}

fn new_replicaset(deploy: &Deployment, template: &Value, hash: &str, replicas: i32, revision: i64) -> Value {
    let name = deploy.metadata.name.clone().unwrap_or_default();
    let mut template = template.clone();
    template["metadata"]["labels"][HASH_LABEL] = json!(hash);
    let mut selector = serde_json::to_value(&deploy.spec.selector).unwrap_or_else(|_| json!({}));
    selector["matchLabels"][HASH_LABEL] = json!(hash);
    let mut labels = template["metadata"]["labels"].clone();
    labels[HASH_LABEL] = json!(hash);
    json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {
            "name": format!("{name}-{hash}"),
            "namespace": deploy.metadata.namespace,
            "labels": labels,
            "annotations": {REVISION: revision.to_string(), "deployment.kubernetes.io/desired-replicas": deploy.spec.replicas.unwrap_or(1).to_string()},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name, "uid": deploy.metadata.uid, "controller": true, "blockOwnerDeletion": true}],
        },
        "spec": {"replicas": replicas, "minReadySeconds": deploy.spec.min_ready_seconds.unwrap_or(0), "selector": selector, "template": template},
    })
}

/// How far a rolling update may go: surge above and unavailability below the desired count.
struct Limits {
    desired: i32,
    surge: i32,
    unavailable: i32,
    recreate: bool,
}

fn limits(spec: &k8s_openapi::api::apps::v1::DeploymentSpec) -> Limits {
    let desired = spec.replicas.unwrap_or(1).max(0);
    let strategy = spec.strategy.clone().unwrap_or_default();
    let recreate = strategy.type_.as_deref() == Some("Recreate");
    let rolling = strategy.rolling_update.unwrap_or_default();
    let pct = |v: Option<IntOrString>, default: &str, up: bool| {
        crds::defaults::scaled_int_or_percent("", &v.unwrap_or(IntOrString::String(default.into())), desired, up)
            .unwrap_or(0)
            .max(0)
    };
    let surge = if recreate {
        0
    } else {
        pct(rolling.max_surge, "25%", true)
    };
    let mut unavailable = if recreate {
        desired
    } else {
        pct(rolling.max_unavailable, "25%", false)
    };
    if surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    Limits {
        desired,
        surge,
        unavailable,
        recreate,
    }
}

/// The Deployment's ReplicaSets: the one running its template and the older ones.
struct Sets<'a> {
    owned: &'a [&'a ReplicaSet],
    new: Option<&'a ReplicaSet>,
    old: Vec<&'a ReplicaSet>,
    template: Value,
    hash: String,
}

/// Decides what the Deployment needs at `now`, given the ReplicaSets it owns.
#[must_use]
pub fn decide(deploy: &Deployment, owned: &[&ReplicaSet], now: jiff::Timestamp) -> Decision {
    let spec = &deploy.spec;
    let template = serde_json::to_value(&spec.template).unwrap_or_else(|_| json!({}));
    let hash = template_hash(&template);
    let new = owned
        .iter()
        .copied()
        .find(|rs| rs.metadata.labels.as_ref().and_then(|l| l.get(HASH_LABEL)) == Some(&hash));
    let mut old: Vec<&ReplicaSet> = owned
        .iter()
        .copied()
        .filter(|rs| new.is_none_or(|n| n.metadata.name != rs.metadata.name))
        .collect();
    old.sort_by_key(|rs| revision(rs));
    let sets = Sets {
        owned,
        new,
        old,
        template,
        hash,
    };
    let limits = limits(spec);
    let paused = spec.paused.unwrap_or(false);
    let (changes, new_replicas) = if paused {
        (Vec::new(), new.map_or(0, spec_replicas))
    } else {
        rolling_update(deploy, &sets, &limits)
    };
    let (status, requeue) = status(deploy, &sets, &limits, !changes.is_empty(), new_replicas, now);
    Decision {
        changes,
        status,
        requeue,
    }
}

/// One step of the rolling update (or Recreate): the new ReplicaSet created or grown, old ones
/// scaled down as far as availability allows, old empty ones beyond the history limit deleted.
/// Returns the changes and the new ReplicaSet's replicas after them.
fn rolling_update(deploy: &Deployment, sets: &Sets<'_>, limits: &Limits) -> (Vec<Change>, i32) {
    let Limits {
        desired,
        surge,
        unavailable,
        recreate,
    } = *limits;
    let mut changes = Vec::new();
    let old_total: i32 = sets.old.iter().map(|rs| spec_replicas(rs)).sum();
    let old_pods: i32 = sets.old.iter().map(|rs| stat(rs, |s| Some(s.replicas))).sum();
    let mut new_replicas = sets.new.map_or(0, spec_replicas);
    match sets.new {
        None => {
            let revision = sets.owned.iter().map(|rs| revision(rs)).max().unwrap_or(0) + 1;
            let start = if sets.owned.is_empty() {
                desired
            } else if recreate {
                0
            } else {
                (desired + surge - old_total).clamp(0, desired)
            };
            changes.push(Change::Create(new_replicaset(
                deploy,
                &sets.template,
                &sets.hash,
                start,
                revision,
            )));
            new_replicas = start;
        }
        Some(rs) => {
            let target = if recreate {
                if old_pods == 0 { desired } else { 0 }
            } else {
                (desired + surge - old_total).clamp(new_replicas.min(desired), desired)
            };
            if target != spec_replicas(rs) {
                changes.push(Change::Scale(rs.metadata.name.clone().unwrap_or_default(), target));
                new_replicas = target;
            }
        }
    }
    // Scale old ReplicaSets down as far as availability allows (all of them for Recreate).
    let available: i32 = sets.owned.iter().map(|rs| stat(rs, |s| s.available_replicas)).sum();
    let mut budget = if recreate {
        i32::MAX
    } else {
        available - (desired - unavailable)
    };
    for rs in &sets.old {
        let current = spec_replicas(rs);
        let cut = current.min(budget.max(0));
        if cut > 0 {
            changes.push(Change::Scale(
                rs.metadata.name.clone().unwrap_or_default(),
                current - cut,
            ));
            budget -= cut;
        }
    }
    // Old, empty ReplicaSets beyond the history limit go, oldest first.
    let limit = usize::try_from(deploy.spec.revision_history_limit.unwrap_or(10).max(0)).unwrap_or(10);
    let empty: Vec<&&ReplicaSet> = sets
        .old
        .iter()
        .filter(|rs| spec_replicas(rs) == 0 && stat(rs, |s| Some(s.replicas)) == 0)
        .collect();
    for rs in empty.iter().take(empty.len().saturating_sub(limit)) {
        changes.push(Change::Delete(rs.metadata.name.clone().unwrap_or_default()));
    }
    (changes, new_replicas)
}

/// The status (when it changed) with the `Available` and `Progressing` conditions, and when to
/// look again for the progress deadline.
fn status(
    deploy: &Deployment,
    sets: &Sets<'_>,
    limits: &Limits,
    scaled: bool,
    new_replicas: i32,
    now: jiff::Timestamp,
) -> (Option<Value>, Option<Duration>) {
    let (new, owned, desired) = (sets.new, sets.owned, limits.desired);
    let old_pods: i32 = sets.old.iter().map(|rs| stat(rs, |s| Some(s.replicas))).sum();
    let paused = deploy.spec.paused.unwrap_or(false);
    let sum = |f: &dyn Fn(&ReplicaSet) -> i32| owned.iter().map(|rs| f(rs)).sum::<i32>();
    let available = sum(&|rs| stat(rs, |s| s.available_replicas));
    let updated = new.map_or(0, |rs| stat(rs, |s| Some(s.replicas)));
    let new_available = new.map_or(0, |rs| stat(rs, |s| s.available_replicas));
    let complete =
        new.is_some() && updated == desired && new_available == desired && old_pods == 0 && new_replicas == desired;
    let current = deploy
        .status
        .as_ref()
        .and_then(|s| serde_json::to_value(s).ok())
        .unwrap_or_else(|| json!({}));
    let previous = |kind: &str| {
        current
            .get("conditions")
            .and_then(Value::as_array)
            .and_then(|c| c.iter().find(|c| c["type"] == kind))
            .cloned()
    };
    let deadline =
        Duration::from_secs(u64::try_from(deploy.spec.progress_deadline_seconds.unwrap_or(600).max(0)).unwrap_or(600));
    // Progress: something was scaled, or the replica counts moved since the last status.
    let counts = json!([
        sum(&|rs| stat(rs, |s| Some(s.replicas))),
        updated,
        sum(&|rs| stat(rs, |s| s.ready_replicas)),
        available
    ]);
    let previous_counts = json!([
        current["replicas"].as_i64().unwrap_or(0),
        current["updatedReplicas"].as_i64().unwrap_or(0),
        current["readyReplicas"].as_i64().unwrap_or(0),
        current["availableReplicas"].as_i64().unwrap_or(0)
    ]);
    let progressed = scaled || counts != previous_counts || previous("Progressing").is_none();
    let last_progress = previous("Progressing")
        .and_then(|c| {
            c["lastUpdateTime"]
                .as_str()
                .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        })
        .filter(|_| !progressed)
        .unwrap_or(now);
    let exceeded = !complete && !paused && last_progress + deadline <= now;
    let rs_name = new
        .and_then(|rs| rs.metadata.name.clone())
        .unwrap_or_else(|| format!("{}-{}", deploy.metadata.name.clone().unwrap_or_default(), sets.hash));
    let (progress_status, reason, message) = if exceeded {
        (
            "False",
            "ProgressDeadlineExceeded",
            format!("ReplicaSet \"{rs_name}\" has timed out progressing."),
        )
    } else if complete {
        (
            "True",
            "NewReplicaSetAvailable",
            format!("ReplicaSet \"{rs_name}\" has successfully progressed."),
        )
    } else {
        (
            "True",
            "ReplicaSetUpdated",
            format!("ReplicaSet \"{rs_name}\" is progressing."),
        )
    };
    let is_available = available >= desired - limits.unavailable;
    let keep_time = |kind: &str, status: &str| {
        previous(kind)
            .filter(|c| c["status"] == status)
            .and_then(|c| c.get("lastTransitionTime").cloned())
            .unwrap_or_else(|| json!(rfc3339(now)))
    };
    let status = json!({
        "observedGeneration": deploy.metadata.generation.unwrap_or(0),
        "replicas": sum(&|rs| stat(rs, |s| Some(s.replicas))),
        "updatedReplicas": updated,
        "readyReplicas": sum(&|rs| stat(rs, |s| s.ready_replicas)),
        "availableReplicas": available,
        "unavailableReplicas": (desired - available).max(0),
        "conditions": [
            {"type": "Available", "status": if is_available { "True" } else { "False" },
             "reason": if is_available { "MinimumReplicasAvailable" } else { "MinimumReplicasUnavailable" },
             "message": if is_available { "Deployment has minimum availability." } else { "Deployment does not have minimum availability." },
             "lastUpdateTime": rfc3339(now), "lastTransitionTime": keep_time("Available", if is_available { "True" } else { "False" })},
            {"type": "Progressing", "status": progress_status, "reason": reason, "message": message,
             "lastUpdateTime": rfc3339(last_progress), "lastTransitionTime": keep_time("Progressing", progress_status)},
        ],
    });
    let changed = without_times(&current) != without_times(&status) || progressed;
    let requeue = (!complete && !exceeded)
        .then(|| (last_progress + deadline).duration_since(now).try_into().ok())
        .flatten();
    (changed.then_some(status), requeue)
}

/// A status without its conditions' times, to tell a real change from a refresh.
fn without_times(v: &Value) -> Value {
    let mut v = v.clone();
    for c in v
        .get_mut("conditions")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        if let Some(m) = c.as_object_mut() {
            m.remove("lastUpdateTime");
            m.remove("lastTransitionTime");
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> jiff::Timestamp {
        jiff::Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    fn deploy(image: &str, extra: Value) -> Deployment {
        let mut d = json!({
            "metadata": {"name": "web", "namespace": "default", "uid": "d-uid", "generation": 2},
            "spec": {"replicas": 10, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "app", "image": image}]}}}
        });
        if let (Some(spec), Some(extra)) = (d["spec"].as_object_mut(), extra.as_object()) {
            spec.extend(extra.clone());
        }
        serde_json::from_value(d).unwrap()
    }

    fn rs(name: &str, hash: &str, revision: i64, replicas: i32, available: i32) -> ReplicaSet {
        serde_json::from_value(json!({
            "metadata": {"name": name, "labels": {"app": "web", HASH_LABEL: hash}, "annotations": {REVISION: revision.to_string()}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}}},
            "status": {"replicas": replicas, "readyReplicas": available, "availableReplicas": available}
        }))
        .unwrap()
    }

    fn hash_of(d: &Deployment) -> String {
        template_hash(&serde_json::to_value(&d.spec.template).unwrap())
    }

    #[test]
    fn first_deploy_creates_a_full_replicaset() {
        let d = deploy("web:1", json!({}));
        let decision = decide(&d, &[], at(0));
        let [Change::Create(created)] = decision.changes.as_slice() else {
            panic!("{:?}", decision.changes)
        };
        let hash = hash_of(&d);
        assert_eq!(created["metadata"]["name"], format!("web-{hash}"));
        assert_eq!(created["spec"]["replicas"], 10);
        assert_eq!(created["spec"]["template"]["metadata"]["labels"][HASH_LABEL], hash);
        assert_eq!(created["metadata"]["annotations"][REVISION], "1");
    }

    #[test]
    fn rolling_update_surges_and_keeps_availability() {
        let d = deploy("web:2", json!({}));
        let old = rs("web-old", "old", 1, 10, 10);
        let decision = decide(&d, &[&old], at(0));
        // Defaults on 10 replicas: surge 3 (25% rounded up), unavailable 2 (rounded down).
        let Change::Create(created) = &decision.changes[0] else {
            panic!()
        };
        assert_eq!(created["spec"]["replicas"], 3);
        assert_eq!(created["metadata"]["annotations"][REVISION], "2");
        assert_eq!(decision.changes[1], Change::Scale("web-old".into(), 8));
    }

    #[test]
    fn rolling_update_finishes_and_reports_complete() {
        let d = deploy("web:2", json!({}));
        let new = rs(&format!("web-{}", hash_of(&d)), &hash_of(&d), 2, 10, 10);
        let drained = rs("web-old", "old", 1, 0, 0);
        let decision = decide(&d, &[&new, &drained], at(0));
        assert!(decision.changes.is_empty());
        let status = decision.status.unwrap();
        assert_eq!(
            (status["updatedReplicas"].clone(), status["availableReplicas"].clone()),
            (json!(10), json!(10))
        );
        assert_eq!(status["conditions"][1]["reason"], "NewReplicaSetAvailable");
        assert_eq!(status["conditions"][0]["status"], "True");
    }

    #[test]
    fn recreate_stops_the_old_version_first() {
        let d = deploy("web:2", json!({"strategy": {"type": "Recreate"}}));
        let old = rs("web-old", "old", 1, 10, 10);
        let decision = decide(&d, &[&old], at(0));
        let Change::Create(created) = &decision.changes[0] else {
            panic!()
        };
        assert_eq!(created["spec"]["replicas"], 0);
        assert_eq!(decision.changes[1], Change::Scale("web-old".into(), 0));
    }

    #[test]
    fn no_progress_past_the_deadline_is_reported() {
        let d = deploy("web:2", json!({"progressDeadlineSeconds": 60}));
        let new = rs(&format!("web-{}", hash_of(&d)), &hash_of(&d), 2, 10, 3);
        let mut stuck = d.clone();
        stuck.status = Some(serde_json::from_value(json!({
            "replicas": 10, "updatedReplicas": 10, "readyReplicas": 3, "availableReplicas": 3,
            "conditions": [{"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated", "lastUpdateTime": rfc3339(at(0))}]
        })).unwrap());
        let early = decide(&stuck, &[&new], at(30));
        assert_eq!(early.requeue, Some(Duration::from_secs(30)));
        let late = decide(&stuck, &[&new], at(61)).status.unwrap();
        assert_eq!(
            (
                late["conditions"][1]["status"].clone(),
                late["conditions"][1]["reason"].clone()
            ),
            (json!("False"), json!("ProgressDeadlineExceeded"))
        );
    }

    #[test]
    fn empty_old_replicasets_beyond_the_history_limit_are_deleted() {
        let d = deploy("web:4", json!({"revisionHistoryLimit": 1}));
        let new = rs(&format!("web-{}", hash_of(&d)), &hash_of(&d), 4, 10, 10);
        let olds = [
            rs("web-r1", "r1", 1, 0, 0),
            rs("web-r2", "r2", 2, 0, 0),
            rs("web-r3", "r3", 3, 0, 0),
        ];
        let decision = decide(&d, &[&new, &olds[0], &olds[1], &olds[2]], at(0));
        assert_eq!(
            decision.changes,
            [Change::Delete("web-r1".into()), Change::Delete("web-r2".into())]
        );
    }
}
