//! The Job controller's decision: run pods until enough succeed, give up after `backoffLimit`
//! failures, and report `active`/`succeeded`/`failed` with the `Complete` or `Failed` condition.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use serde_json::{Value, json};

use crate::api::store::rfc3339;

/// What to do for one Job.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// Pods to create.
    pub create: usize,
    /// The status to write, when it changed.
    pub status: Option<Value>,
}

fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Pending")
}

/// Decides what the Job needs at `now`, given the pods it owns.
#[must_use]
pub fn decide(job: &Job, pods: &[&Pod], now: jiff::Timestamp) -> Decision {
    let spec = job.spec.clone().unwrap_or_default();
    let completions = usize::try_from(spec.completions.unwrap_or(1).max(1)).unwrap_or(1);
    let parallelism = usize::try_from(spec.parallelism.unwrap_or(1).max(0)).unwrap_or(1);
    let backoff_limit = usize::try_from(spec.backoff_limit.unwrap_or(6).max(0)).unwrap_or(6);
    let succeeded = pods.iter().filter(|p| phase(p) == "Succeeded").count();
    let failed = pods.iter().filter(|p| phase(p) == "Failed").count();
    let active = pods
        .iter()
        .filter(|p| !matches!(phase(p), "Succeeded" | "Failed") && p.metadata.deletion_timestamp.is_none())
        .count();
    let current = job
        .status
        .as_ref()
        .and_then(|s| serde_json::to_value(s).ok())
        .unwrap_or_else(|| json!({}));
    let finished_condition = |kind: &str| {
        current
            .get("conditions")
            .and_then(Value::as_array)
            .and_then(|c| c.iter().find(|c| c["type"] == kind && c["status"] == "True"))
            .cloned()
    };
    let condition = |kind: &str, reason: &str, message: &str| json!({"type": kind, "status": "True", "reason": reason, "message": message, "lastProbeTime": rfc3339(now), "lastTransitionTime": rfc3339(now)});
    let (create, conditions, completion_time) =
        if let Some(done) = finished_condition("Complete").or_else(|| finished_condition("Failed")) {
            (0, vec![done], current.get("completionTime").cloned())
        } else if succeeded >= completions {
            (
                0,
                vec![condition(
                    "Complete",
                    "CompletionsReached",
                    "Reached expected number of succeeded pods",
                )],
                Some(json!(rfc3339(now))),
            )
        } else if failed > backoff_limit {
            (
                0,
                vec![condition(
                    "Failed",
                    "BackoffLimitExceeded",
                    "Job has reached the specified backoff limit",
                )],
                None,
            )
        } else {
            let wanted = parallelism.min(completions - succeeded);
            (wanted.saturating_sub(active), Vec::new(), None)
        };
    let mut status = json!({
        "active": active + create,
        "succeeded": succeeded,
        "failed": failed,
        "startTime": current.get("startTime").cloned().unwrap_or_else(|| json!(rfc3339(now))),
    });
    if !conditions.is_empty() {
        status["conditions"] = Value::Array(conditions);
        status["active"] = json!(0);
    }
    if let Some(t) = completion_time {
        status["completionTime"] = t;
    }
    let keys = ["active", "succeeded", "failed", "conditions"];
    let same = keys
        .iter()
        .all(|k| current.get(*k).cloned().unwrap_or(json!(0)) == status.get(*k).cloned().unwrap_or(json!(0)))
        && current.get("startTime").is_some();
    Decision {
        create,
        status: (!same).then_some(status),
    }
}

/// The pod to create for a Job: its template, named `<job>-<5 random characters>`, labelled and
/// owned as the real controller does it.
#[must_use]
pub fn new_pod(job: &Job) -> Value {
    let spec = job.spec.clone().unwrap_or_default();
    let meta = spec.template.metadata.unwrap_or_default();
    let name = job.metadata.name.clone().unwrap_or_default();
    let uid = job.metadata.uid.clone().unwrap_or_default();
    let mut labels = meta.labels.unwrap_or_default();
    labels.insert("batch.kubernetes.io/job-name".into(), name.clone());
    labels.insert("job-name".into(), name.clone());
    labels.insert("batch.kubernetes.io/controller-uid".into(), uid.clone());
    labels.insert("controller-uid".into(), uid.clone());
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "generateName": format!("{name}-"),
            "namespace": job.metadata.namespace,
            "labels": labels,
            "annotations": meta.annotations.unwrap_or_default(),
            "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": name, "uid": uid, "controller": true, "blockOwnerDeletion": true}],
        },
        "spec": spec.template.spec,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> jiff::Timestamp {
        jiff::Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    fn job(backoff: i32) -> Job {
        serde_json::from_value(json!({
            "metadata": {"name": "check", "namespace": "default", "uid": "job-uid"},
            "spec": {"backoffLimit": backoff, "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "job:1"}]}}}
        }))
        .unwrap()
    }

    fn pod(phase: &str) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "p"}, "status": {"phase": phase}})).unwrap()
    }

    #[test]
    fn starts_one_pod_then_completes() {
        let start = decide(&job(0), &[], at(0));
        assert_eq!(start.create, 1);
        assert_eq!(start.status.unwrap()["active"], 1);
        let done_pod = pod("Succeeded");
        let done = decide(&job(0), &[&done_pod], at(5)).status.unwrap();
        assert_eq!(done["conditions"][0]["type"], "Complete");
        assert_eq!(
            (done["succeeded"].clone(), done["active"].clone()),
            (json!(1), json!(0))
        );
        assert_eq!(done["completionTime"], rfc3339(at(5)));
    }

    #[test]
    fn retries_until_the_backoff_limit_then_fails() {
        let failed = pod("Failed");
        let retry = decide(&job(1), &[&failed], at(1));
        assert_eq!(retry.create, 1, "one failure is within backoffLimit 1");
        let again = pod("Failed");
        let gave_up = decide(&job(1), &[&failed, &again], at(2));
        assert_eq!(gave_up.create, 0);
        let status = gave_up.status.unwrap();
        assert_eq!(
            (
                status["conditions"][0]["type"].clone(),
                status["conditions"][0]["reason"].clone()
            ),
            (json!("Failed"), json!("BackoffLimitExceeded"))
        );
    }

    #[test]
    fn job_pods_are_labelled_and_owned() {
        let p = new_pod(&job(0));
        assert_eq!(p["metadata"]["labels"]["batch.kubernetes.io/job-name"], "check");
        assert_eq!(p["metadata"]["ownerReferences"][0]["kind"], "Job");
        assert_eq!(p["spec"]["restartPolicy"], "Never");
    }
}
