//! How a simulated pod behaves, decided from its template: annotations first, then a convention on
//! the image tag, so a one-line image change in Git is enough to make a bad version.
//!
//! | annotation | meaning | default |
//! |---|---|---|
//! | `sim.sluice.dev/start-delay` | time from creation to Ready (`2s`, `500ms`) | `1s` |
//! | `sim.sluice.dev/crash` | `"true"`: CrashLoopBackOff, never ready, restartCount grows | `false` |
//! | `sim.sluice.dev/success-rate` | share of requests answered without a 5xx | `0.97`, or `0.80` when the image tag contains `bad` |
//! | `sim.sluice.dev/latency-ms` | mean request latency | `50`, or `400` when the image tag contains `slow` |
//! | `sim.sluice.dev/exit-code` | exit code of a run-to-completion pod (Jobs) | `0`, or `1` when the image tag contains `fail` |
//!
//! An image tag containing `crash` crashes like the annotation does.

use std::collections::BTreeMap;
use std::time::Duration;

/// Annotation prefix of the behaviour rules.
pub const PREFIX: &str = "sim.sluice.dev/";

/// What a pod does once it runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Behaviour {
    /// From creation to Ready.
    pub start_delay: Duration,
    /// Crash-loops instead of becoming ready.
    pub crash: bool,
    /// Share of requests without a 5xx answer.
    pub success_rate: f64,
    /// Mean request latency in milliseconds.
    pub latency_ms: f64,
    /// Exit code for run-to-completion pods.
    pub exit_code: i32,
}

/// The tag of an image reference (`registry/app:1.2-bad` gives `1.2-bad`), empty without one.
fn tag(image: &str) -> &str {
    let name = image.split('@').next().unwrap_or(image);
    match name.rsplit_once(':') {
        Some((_, tag)) if !tag.contains('/') => tag,
        _ => "",
    }
}

impl Behaviour {
    /// The behaviour of a pod with these annotations whose first container runs `image`.
    /// Values that do not parse fall back to the defaults.
    #[must_use]
    pub fn of(annotations: &BTreeMap<String, String>, image: &str) -> Self {
        let tag = tag(image).to_lowercase();
        let get = |key: &str| annotations.get(&format!("{PREFIX}{key}")).map(|v| v.trim().to_owned());
        let number = |key: &str| get(key).and_then(|v| v.parse::<f64>().ok());
        let start_delay = get("start-delay")
            .and_then(|v| crds::duration::parse(&v).ok())
            .and_then(crds::duration::Duration::to_std)
            .unwrap_or(Duration::from_secs(1));
        Self {
            start_delay,
            crash: get("crash").map_or(tag.contains("crash"), |v| v == "true"),
            success_rate: number("success-rate")
                .map_or(if tag.contains("bad") { 0.80 } else { 0.97 }, |r| r.clamp(0.0, 1.0)),
            latency_ms: number("latency-ms").map_or(if tag.contains("slow") { 400.0 } else { 50.0 }, |l| l.max(0.0)),
            exit_code: get("exit-code")
                .and_then(|v| v.parse().ok())
                .unwrap_or(i32::from(tag.contains("fail"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn annotations(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (format!("{PREFIX}{k}"), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn image_tag_convention() {
        let none = BTreeMap::new();
        assert_eq!(Behaviour::of(&none, "registry.example/api:1.0.0").success_rate, 0.97);
        assert_eq!(
            Behaviour::of(&none, "registry.example/api:1.1.0-bad").success_rate,
            0.80
        );
        assert!(Behaviour::of(&none, "api:crash").crash);
        assert_eq!(Behaviour::of(&none, "api:slow").latency_ms, 400.0);
        assert_eq!(Behaviour::of(&none, "job:fail").exit_code, 1);
        // A registry port is not a tag.
        assert_eq!(Behaviour::of(&none, "localhost:5000/api").success_rate, 0.97);
    }

    #[test]
    fn annotations_win_over_the_tag() {
        let set = annotations(&[
            ("success-rate", "0.5"),
            ("start-delay", "250ms"),
            ("crash", "false"),
            ("exit-code", "3"),
        ]);
        let b = Behaviour::of(&set, "api:bad-crash");
        assert_eq!(
            (b.success_rate, b.start_delay, b.crash, b.exit_code),
            (0.5, Duration::from_millis(250), false, 3)
        );
        // Unparseable values fall back to defaults; rates are clamped.
        let odd = annotations(&[("success-rate", "1.7"), ("start-delay", "soon")]);
        let b = Behaviour::of(&odd, "api:1");
        assert_eq!((b.success_rate, b.start_delay), (1.0, Duration::from_secs(1)));
    }
}
