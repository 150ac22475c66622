//! Application metrics of simulated pods, so a real Prometheus can judge versions: every ready pod
//! answers requests at a steady rate, with its behaviour's success rate and latency, as
//! `http_requests_total{job,namespace,pod,rollouts_pod_template_hash,status}` counters and an
//! `http_request_duration_seconds` histogram, moving in real time. How many requests each pod
//! answers follows the traffic routers (`super::traffic`).

use std::fmt::Write;

use k8s_openapi::api::core::v1::Pod;

use super::behaviour::Behaviour;

/// Histogram bucket bounds, in seconds.
pub const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// What one ready pod contributes.
#[derive(Clone, Debug, PartialEq)]
pub struct PodSeries {
    /// `job` label: the pod's `app` (or `app.kubernetes.io/name`) label.
    pub job: String,
    /// Namespace.
    pub namespace: String,
    /// Pod name.
    pub pod: String,
    /// The pod's `rollouts-pod-template-hash` label, empty when absent.
    pub hash: String,
    /// Its behaviour.
    pub behaviour: Behaviour,
    /// Seconds it has been ready (serving).
    pub serving_seconds: f64,
    /// Requests it has answered so far (see [`super::traffic::Meter`]).
    pub requests: f64,
}

fn ready_since(pod: &Pod) -> Option<jiff::Timestamp> {
    let conditions = pod.status.as_ref()?.conditions.as_ref()?;
    let ready = conditions.iter().find(|c| c.type_ == "Ready" && c.status == "True")?;
    ready.last_transition_time.as_ref().map(|t| t.0)
}

/// The series of a pod at `now`, if it is ready and not terminating.
#[must_use]
pub fn series(pod: &Pod, now: jiff::Timestamp) -> Option<PodSeries> {
    if pod.metadata.deletion_timestamp.is_some() {
        return None;
    }
    let since = ready_since(pod)?;
    let labels = pod.metadata.labels.clone().unwrap_or_default();
    let job = labels
        .get("app")
        .or_else(|| labels.get("app.kubernetes.io/name"))
        .cloned()
        .unwrap_or_default();
    let image = pod.spec.as_ref()?.containers.first()?.image.clone().unwrap_or_default();
    Some(PodSeries {
        job,
        namespace: pod.metadata.namespace.clone().unwrap_or_default(),
        pod: pod.metadata.name.clone().unwrap_or_default(),
        hash: labels.get(crds::keys::HASH_LABEL).cloned().unwrap_or_default(),
        behaviour: Behaviour::of(&pod.metadata.annotations.clone().unwrap_or_default(), &image),
        serving_seconds: now.duration_since(since).as_secs_f64().max(0.0),
        requests: 0.0,
    })
}

fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Renders the exposition text for these pods, with the requests each has answered.
#[must_use]
pub fn render(pods: &[PodSeries]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP http_requests_total Requests answered by simulated pods, by status."
    );
    let _ = writeln!(out, "# TYPE http_requests_total counter");
    let labels = |p: &PodSeries| {
        format!(
            "job=\"{}\",namespace=\"{}\",pod=\"{}\",rollouts_pod_template_hash=\"{}\"",
            escape(&p.job),
            escape(&p.namespace),
            escape(&p.pod),
            escape(&p.hash)
        )
    };
    for p in pods {
        let total = p.requests;
        let ok = total * p.behaviour.success_rate;
        let _ = writeln!(out, "http_requests_total{{{},status=\"200\"}} {ok}", labels(p));
        let _ = writeln!(
            out,
            "http_requests_total{{{},status=\"500\"}} {}",
            labels(p),
            total - ok
        );
    }
    let _ = writeln!(
        out,
        "# HELP http_request_duration_seconds Latency of requests answered by simulated pods."
    );
    let _ = writeln!(out, "# TYPE http_request_duration_seconds histogram");
    for p in pods {
        let total = p.requests;
        let mean = (p.behaviour.latency_ms / 1000.0).max(1e-6);
        for bound in BUCKETS {
            // Exponentially distributed latencies with the behaviour's mean.
            let below = total * (1.0 - (-bound / mean).exp());
            let _ = writeln!(
                out,
                "http_request_duration_seconds_bucket{{{},le=\"{bound}\"}} {below}",
                labels(p)
            );
        }
        let _ = writeln!(
            out,
            "http_request_duration_seconds_bucket{{{},le=\"+Inf\"}} {total}",
            labels(p)
        );
        let _ = writeln!(
            out,
            "http_request_duration_seconds_sum{{{}}} {}",
            labels(p),
            total * mean
        );
        let _ = writeln!(out, "http_request_duration_seconds_count{{{}}} {total}", labels(p));
    }
    out
}

/// A Prometheus scrape job for the simulator's metrics endpoint.
#[must_use]
pub fn scrape_config(target: &str) -> String {
    format!(
        "scrape_configs:\n  - job_name: sluice-sim-apps\n    scrape_interval: 5s\n    honor_labels: true\n    metrics_path: /metrics\n    static_configs:\n      - targets: ['{target}']\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(image: &str, ready_at: i64) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "api-abc-x", "namespace": "default", "labels": {"app": "api", "rollouts-pod-template-hash": "abc"}},
            "spec": {"containers": [{"name": "api", "image": image}]},
            "status": {"conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": jiff::Timestamp::from_second(ready_at).unwrap().to_string()}]}
        }))
        .unwrap()
    }

    /// The series of a pod serving `rate` requests a second since it became ready.
    fn at_rate(pod: &Pod, now: jiff::Timestamp, rate: f64) -> PodSeries {
        let mut s = series(pod, now).unwrap();
        s.requests = rate * s.serving_seconds;
        s
    }

    fn value(text: &str, prefix: &str) -> f64 {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.rsplit(' ').next())
            .unwrap()
            .parse()
            .unwrap()
    }

    #[test]
    fn counters_grow_with_serving_time_and_split_by_success_rate() {
        let now = jiff::Timestamp::from_second(1_000).unwrap();
        let good = series(&pod("api:1.0.0", 900), now).unwrap();
        assert_eq!(
            (good.job.as_str(), good.hash.as_str(), good.serving_seconds),
            ("api", "abc", 100.0)
        );
        let text = render(&[at_rate(&pod("api:1.0.0", 900), now, 10.0)]);
        let ok = value(
            &text,
            "http_requests_total{job=\"api\",namespace=\"default\",pod=\"api-abc-x\",rollouts_pod_template_hash=\"abc\",status=\"200\"}",
        );
        let err = value(
            &text,
            "http_requests_total{job=\"api\",namespace=\"default\",pod=\"api-abc-x\",rollouts_pod_template_hash=\"abc\",status=\"500\"}",
        );
        assert!((ok - 970.0).abs() < 1e-6 && (err - 30.0).abs() < 1e-6, "{ok} {err}");
        let bad = render(&[at_rate(&pod("api:1.1.0-bad", 900), now, 10.0)]);
        assert!((value(&bad, "http_requests_total{job=\"api\",namespace=\"default\",pod=\"api-abc-x\",rollouts_pod_template_hash=\"abc\",status=\"200\"}") - 800.0).abs() < 1e-6);
    }

    #[test]
    fn histogram_is_cumulative_and_counts_every_request() {
        let now = jiff::Timestamp::from_second(1_000).unwrap();
        let text = render(&[at_rate(&pod("api:1", 990), now, 1.0)]);
        let buckets: Vec<f64> = text
            .lines()
            .filter(|l| l.starts_with("http_request_duration_seconds_bucket"))
            .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(buckets.len(), BUCKETS.len() + 1);
        assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "buckets must be cumulative");
        assert!((buckets.last().unwrap() - 10.0).abs() < 1e-9);
    }

    #[test]
    fn pods_that_are_not_ready_have_no_series() {
        let mut p = pod("api:1", 0);
        p.status = None;
        assert!(series(&p, jiff::Timestamp::from_second(10).unwrap()).is_none());
        assert!(scrape_config("127.0.0.1:9000").contains("targets: ['127.0.0.1:9000']"));
    }
}
