//! The simulated kubelet: moves a pod through Pending, Running and Ready (or CrashLoopBackOff, or
//! Succeeded/Failed for run-to-completion pods) by writing its status, as decided here from the pod
//! and the time alone.

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use serde_json::{Value, json};

use super::behaviour::Behaviour;

/// How often a crash-looping container restarts in the simulation.
pub const CRASH_RESTART_EVERY: Duration = Duration::from_secs(10);

/// What the kubelet does for one pod now.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// The status to write, when it changes.
    pub status: Option<Value>,
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

fn rfc3339(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Decides the pod's status at `now`.
#[must_use]
pub fn decide(pod: &Pod, now: jiff::Timestamp) -> Decision {
    let idle = Decision {
        status: None,
        requeue: None,
    };
    let Some(spec) = &pod.spec else { return idle };
    let Some(created) = pod.metadata.creation_timestamp.as_ref().map(|t| t.0) else {
        return idle;
    };
    if pod.metadata.deletion_timestamp.is_some() {
        return idle;
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
        };
    }
    let restart_always = spec.restart_policy.as_deref().is_none_or(|p| p == "Always");
    let desired = if behaviour.crash && restart_always {
        let since = now.duration_since(ready_at).as_secs().max(0);
        let restarts = 1 + since / i64::try_from(CRASH_RESTART_EVERY.as_secs()).unwrap_or(10);
        let waiting = json!({"waiting": {"reason": "CrashLoopBackOff", "message": "back-off restarting failed container (simulated crash)"}});
        let status = base("Running", false, containers(&|_| waiting.clone(), false, restarts));
        let next = ready_at + Duration::from_secs(u64::try_from(restarts).unwrap_or(1) * CRASH_RESTART_EVERY.as_secs());
        return Decision {
            status: (summary(current.as_ref()) != summary(Some(&status))).then_some(status),
            requeue: wait(next),
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
        requeue: None,
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
        assert_eq!(
            decide(&p, at(100)),
            Decision {
                status: None,
                requeue: None
            },
            "a ready pod needs nothing"
        );
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
