//! The simulated kubelet: moves a pod through Pending, Running and Ready (or CrashLoopBackOff, or
//! Succeeded/Failed for run-to-completion pods) by writing its status, as decided here from the pod
//! and the time alone.

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use serde_json::{Value, json};

use crate::api::store::rfc3339;

use super::behaviour::Behaviour;

/// How often a crash-looping container restarts in the simulation.
pub const CRASH_RESTART_EVERY: Duration = Duration::from_secs(10);
/// Simulated time runs this many times faster for termination: a 30 s grace period takes 1 s.
pub const TERMINATION_SPEEDUP: i64 = 30;
/// The node every simulated pod is bound to.
pub const NODE: &str = "sluice-sim-node";

/// What the kubelet does for one pod now.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Decision {
    /// Bind the pod to [`NODE`] first (the scheduler's job).
    pub bind: bool,
    /// The status to write, when it changes.
    pub status: Option<Value>,
    /// The containers have stopped: remove the terminating pod (delete with grace 0).
    pub delete: bool,
    /// When to look at the pod again.
    pub requeue: Option<Duration>,
}

/// A pod IP from a private range that nothing routes (`10.244.0.0/16`), stable per pod uid.
#[must_use]
pub fn pod_ip(uid: &str) -> String {
    let hash = uid
        .bytes()
        .fold(2_166_136_261_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(16_777_619));
    format!("10.244.{}.{}", (hash >> 8) % 256, hash % 254 + 1)
}

fn summary(status: Option<&Value>) -> (String, bool, i64) {
    let phase = status
        .and_then(|s| s.get("phase"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let ready = status
        .and_then(|s| s.get("conditions"))
        .and_then(Value::as_array)
        .is_some_and(|c| c.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"));
    let restarts = status
        .and_then(|s| s.pointer("/containerStatuses/0/restartCount"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    (phase, ready, restarts)
}

/// Decides the pod's status at `now`.
#[must_use]
pub fn decide(pod: &Pod, now: jiff::Timestamp) -> Decision {
    let idle = Decision::default();
    let Some(spec) = &pod.spec else { return idle };
    let Some(created) = pod.metadata.creation_timestamp.as_ref().map(|t| t.0) else {
        return idle;
    };
    if let Some(deadline) = pod.metadata.deletion_timestamp.as_ref().map(|t| t.0) {
        // Terminating: the containers stop once the grace period (sped up) has passed.
        let grace = pod.metadata.deletion_grace_period_seconds.unwrap_or(0).max(0);
        let stop_at = deadline - jiff::SignedDuration::from_secs(grace)
            + jiff::SignedDuration::from_millis(grace * 1000 / TERMINATION_SPEEDUP);
        if now >= stop_at {
            return Decision {
                delete: true,
                ..Decision::default()
            };
        }
        return Decision {
            requeue: stop_at.duration_since(now).try_into().ok(),
            ..Decision::default()
        };
    }
    if spec.node_name.as_deref().is_none_or(str::is_empty) {
        // The bound pod comes back as a watch event; no requeue needed (or wanted: the cache
        // could still show it unbound).
        return Decision {
            bind: true,
            ..Decision::default()
        };
    }
    let annotations = pod.metadata.annotations.clone().unwrap_or_default();
    let image = spec
        .containers
        .first()
        .and_then(|c| c.image.clone())
        .unwrap_or_default();
    let behaviour = Behaviour::of(&annotations, &image);
    let current = pod.status.as_ref().and_then(|s| serde_json::to_value(s).ok());
    let ready_at = created + behaviour.start_delay;
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    let ip = pod_ip(&uid);
    let containers = |state: &dyn Fn(&str) -> Value, ready: bool, restarts: i64| -> Value {
        Value::Array(
            spec.containers
                .iter()
                .map(|c| {
                    json!({
                        "name": c.name, "image": c.image, "imageID": format!("sim://{}", c.image.clone().unwrap_or_default()),
                        "ready": ready, "restartCount": restarts, "started": ready, "state": state(&c.name),
                    })
                })
                .collect(),
        )
    };
    let condition = |kind: &str, ok: bool| json!({"type": kind, "status": if ok { "True" } else { "False" }, "lastTransitionTime": rfc3339(now)});
    let base = |phase: &str, ready: bool, container_statuses: Value| {
        json!({
            "phase": phase,
            "hostIP": "10.240.0.1", "podIP": ip, "podIPs": [{"ip": ip}],
            "startTime": rfc3339(created), "qosClass": "BestEffort",
            "conditions": [condition("PodScheduled", true), condition("Initialized", true), condition("ContainersReady", ready), condition("Ready", ready)],
            "containerStatuses": container_statuses,
        })
    };
    let wait = |until: jiff::Timestamp| {
        until
            .duration_since(now)
            .try_into()
            .ok()
            .filter(|d: &Duration| !d.is_zero())
    };
    if now < ready_at {
        let pending = base(
            "Pending",
            false,
            containers(&|_| json!({"waiting": {"reason": "ContainerCreating"}}), false, 0),
        );
        let status = (summary(current.as_ref()).0 != "Pending").then_some(pending);
        return Decision {
            status,
            requeue: wait(ready_at),
            ..Decision::default()
        };
    }
    let restart_always = spec.restart_policy.as_deref().is_none_or(|p| p == "Always");
    let desired = if behaviour.crash && restart_always {
        let since = now.duration_since(ready_at).as_secs().max(0);
        let restarts = 1 + since / i64::try_from(CRASH_RESTART_EVERY.as_secs()).unwrap_or(10);
        let waiting = json!({"waiting": {"reason": "CrashLoopBackOff", "message": "back-off restarting failed container (simulated crash)"}});
        let status = base("Running", false, containers(&|_| waiting.clone(), false, restarts));
        let next = ready_at + Duration::from_secs(u64::try_from(restarts).unwrap_or(1) * CRASH_RESTART_EVERY.as_secs());
        let status = (summary(current.as_ref()) != summary(Some(&status))).then_some(status);
        return Decision {
            status,
            requeue: wait(next),
            ..Decision::default()
        };
    } else if restart_always {
        base(
            "Running",
            true,
            containers(&|_| json!({"running": {"startedAt": rfc3339(ready_at)}}), true, 0),
        )
    } else {
        let code = if behaviour.crash { 1 } else { behaviour.exit_code };
        let phase = if code == 0 { "Succeeded" } else { "Failed" };
        let terminated = json!({"terminated": {"exitCode": code, "reason": if code == 0 { "Completed" } else { "Error" }, "startedAt": rfc3339(created), "finishedAt": rfc3339(ready_at)}});
        base(phase, false, containers(&|_| terminated.clone(), false, 0))
    };
    let changed = summary(current.as_ref()) != summary(Some(&desired));
    Decision {
        status: changed.then_some(desired),
        ..Decision::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Container, PodSpec, PodStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn pod(image: &str, restart: Option<&str>, created: jiff::Timestamp) -> Pod {
        let mut pod = Pod::default();
        pod.metadata.name = Some("p".into());
        pod.metadata.uid = Some("uid-1".into());
        pod.metadata.creation_timestamp = Some(Time(created));
        pod.spec = Some(PodSpec {
            containers: vec![Container {
                name: "app".into(),
                image: Some(image.into()),
                ..Container::default()
            }],
            restart_policy: restart.map(str::to_owned),
            node_name: Some(NODE.into()),
            ..PodSpec::default()
        });
        pod
    }

    fn with_status(mut pod: Pod, status: &Value) -> Pod {
        pod.status = Some(serde_json::from_value::<PodStatus>(status.clone()).unwrap());
        pod
    }

    fn at(secs: i64) -> jiff::Timestamp {
        jiff::Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    #[test]
    fn pending_until_the_start_delay_then_ready_once() {
        let p = pod("api:1", None, at(0));
        let first = decide(&p, at(0));
        let status = first.status.unwrap();
        assert_eq!(status["phase"], "Pending");
        assert_eq!(first.requeue, Some(Duration::from_secs(1)));
        let p = with_status(p, &status);
        assert_eq!(decide(&p, at(0)).status, None, "nothing to write while still pending");
        let ready = decide(&p, at(1)).status.unwrap();
        assert_eq!(
            (ready["phase"].clone(), ready["containerStatuses"][0]["ready"].clone()),
            (json!("Running"), json!(true))
        );
        assert_eq!(ready["podIP"], pod_ip("uid-1"));
        let p = with_status(p, &ready);
        assert_eq!(decide(&p, at(100)), Decision::default(), "a ready pod needs nothing");
    }

    #[test]
    fn crashing_pods_never_get_ready_and_restart_count_grows() {
        let p = pod("api:crash", None, at(0));
        let d = decide(&p, at(5));
        let status = d.status.unwrap();
        assert_eq!(
            status["containerStatuses"][0]["state"]["waiting"]["reason"],
            "CrashLoopBackOff"
        );
        assert_eq!(status["containerStatuses"][0]["restartCount"], 1);
        assert_eq!(d.requeue, Some(Duration::from_secs(6)));
        let later = decide(&with_status(p, &status), at(31)).status.unwrap();
        assert_eq!(later["containerStatuses"][0]["restartCount"], 4);
        assert_eq!(
            later["conditions"][3],
            json!({"type": "Ready", "status": "False", "lastTransitionTime": rfc3339(at(31))})
        );
    }

    #[test]
    fn unbound_pods_are_bound_first_and_terminating_pods_stop_after_the_sped_up_grace() {
        let mut p = pod("api:1", None, at(0));
        p.spec.as_mut().unwrap().node_name = None;
        assert!(decide(&p, at(0)).bind);
        let mut p = pod("api:1", None, at(0));
        // Deleted at t=10 with a 30 s grace period: deletionTimestamp is t=40; it stops at t=11.
        p.metadata.deletion_timestamp = Some(Time(at(40)));
        p.metadata.deletion_grace_period_seconds = Some(30);
        let waiting = decide(&p, at(10));
        assert_eq!((waiting.delete, waiting.requeue), (false, Some(Duration::from_secs(1))));
        assert!(decide(&p, at(11)).delete);
    }

    #[test]
    fn run_to_completion_pods_succeed_or_fail_by_exit_code() {
        assert_eq!(
            decide(&pod("job:1", Some("Never"), at(0)), at(2)).status.unwrap()["phase"],
            "Succeeded"
        );
        let failed = decide(&pod("job:fail", Some("Never"), at(0)), at(2)).status.unwrap();
        assert_eq!(failed["phase"], "Failed");
        assert_eq!(failed["containerStatuses"][0]["state"]["terminated"]["exitCode"], 1);
    }
}
