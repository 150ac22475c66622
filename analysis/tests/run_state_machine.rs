//! The AnalysisRun state machine, table-driven on paused time: each case is a run spec, the
//! outcome of each measurement, and what the run must end as (phase, message, when each
//! measurement was taken).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use analysis::args::ResolvedArgs;
use analysis::run::{TaskKind, advance, compile, expires_at, tasks};
use crds::analysis::{AnalysisPhase, AnalysisRunSpec, AnalysisRunStatus, Measurement};
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use AnalysisPhase::{Error as E, Failed as F, Inconclusive as I, Running as R, Successful as S};

const SUPPORTED: &[&str] = &["prometheus", "web", "job"];

fn t0() -> Timestamp {
    "2026-01-01T00:00:00Z".parse().unwrap()
}

fn secs(t: Timestamp) -> i64 {
    t.duration_since(t0()).as_secs()
}

/// A metric YAML with a web provider and the given extra fields.
fn metric(name: &str, fields: &str) -> String {
    let mut yaml = format!("- name: {name}\n  provider:\n    web:\n      url: http://example.invalid/\n");
    for line in fields.lines().filter(|l| !l.trim().is_empty()) {
        yaml.push_str(&format!("  {}\n", line.trim()));
    }
    yaml
}

struct Trace {
    status: AnalysisRunStatus,
    /// Seconds after start at which each metric was measured.
    taken: Vec<Vec<i64>>,
    end: i64,
}

/// Runs the control loop on paused time: measure what is due, advance, jump to the wake-up.
/// `outcomes[m][k]` is the phase of metric m's k-th measurement (the last one repeats);
/// a `Running` outcome stays in flight until resumed.
fn drive(spec: &AnalysisRunSpec, outcomes: &[&[AnalysisPhase]], terminate_at: Option<i64>, horizon: i64) -> Trace {
    let mut spec = spec.clone();
    let mut run = compile(&spec, &ResolvedArgs::default(), SUPPORTED).unwrap();
    let mut status = AnalysisRunStatus::default();
    let mut taken = vec![Vec::new(); run.metrics.len()];
    let mut now = t0();
    loop {
        if let Some(at) = terminate_at
            && secs(now) >= at
            && spec.terminate.is_none()
        {
            spec.terminate = Some(true);
            run = compile(&spec, &ResolvedArgs::default(), SUPPORTED).unwrap();
        }
        let mut measurements = Vec::new();
        for task in tasks(&run, &status, now) {
            let n = taken[task.metric].len();
            let phase = match &task.kind {
                TaskKind::Measure => {
                    taken[task.metric].push(secs(now));
                    let list = outcomes[task.metric];
                    list[n.min(list.len() - 1)]
                }
                // Resumed in-flight measurements complete successfully; terminated ones too.
                TaskKind::Resume(_) | TaskKind::Terminate(_) => S,
            };
            let finished = (phase != R).then_some(Time(now));
            let resume_at = (phase == R).then(|| Time(now + SignedDuration::from_secs(5)));
            measurements.push((
                task.metric,
                Measurement {
                    phase: Some(phase),
                    started_at: Some(Time(now)),
                    finished_at: finished,
                    resume_at,
                    message: (phase == E).then(|| "connection refused".to_string()),
                    ..Measurement::default()
                },
            ));
        }
        let next = advance(&run, &status, now, measurements);
        status = next.status;
        let done = matches!(status.phase, Some(S | F | E | I));
        let wake = match (next.wake_at, terminate_at) {
            (Some(w), Some(at)) if spec.terminate.is_none() => Some(w.min(t0() + SignedDuration::from_secs(at))),
            (None, Some(at)) if spec.terminate.is_none() => Some(t0() + SignedDuration::from_secs(at)),
            (w, _) => w,
        };
        match wake {
            _ if done => break,
            Some(w) if secs(w) <= horizon => {
                assert!(
                    w > now || !tasks(&run, &status, w).is_empty(),
                    "no progress at {}",
                    secs(now)
                );
                now = w.max(now);
            }
            _ => break,
        }
    }
    Trace {
        status,
        taken,
        end: secs(now),
    }
}

fn spec(yaml: &str) -> AnalysisRunSpec {
    crds::yaml::from_str(yaml).unwrap()
}

struct Case {
    name: &'static str,
    metrics: String,
    extra: &'static str,
    outcomes: &'static [&'static [AnalysisPhase]],
    terminate_at: Option<i64>,
    phase: AnalysisPhase,
    message: Option<&'static str>,
    taken: &'static [&'static [i64]],
}

fn case(name: &'static str, metrics: String, outcomes: &'static [&'static [AnalysisPhase]]) -> Case {
    Case {
        name,
        metrics,
        extra: "",
        outcomes,
        terminate_at: None,
        phase: S,
        message: None,
        taken: &[],
    }
}

impl Case {
    fn ends(mut self, phase: AnalysisPhase, message: Option<&'static str>) -> Self {
        self.phase = phase;
        self.message = message;
        self
    }
    fn at(mut self, taken: &'static [&'static [i64]]) -> Self {
        self.taken = taken;
        self
    }
    fn terminate(mut self, at: i64) -> Self {
        self.terminate_at = Some(at);
        self
    }
    fn with(mut self, extra: &'static str) -> Self {
        self.extra = extra;
        self
    }
}

fn cases() -> Vec<Case> {
    vec![
        case("single measurement passes", metric("m", ""), &[&[S]]).at(&[&[0]]),
        case("single measurement fails", metric("m", ""), &[&[F]])
            .ends(F, Some("Metric \"m\" assessed Failed due to failed (1) > failureLimit (0)"))
            .at(&[&[0]]),
        case("count 3 every 10s", metric("m", "interval: 10s\ncount: 3"), &[&[S]]).at(&[&[0, 10, 20]]),
        case("failureLimit 2 fails on the third failure", metric("m", "interval: 10s\ncount: 5\nfailureLimit: 2"), &[&[F]])
            .ends(F, Some("Metric \"m\" assessed Failed due to failed (3) > failureLimit (2)"))
            .at(&[&[0, 10, 20]]),
        case("failures under the limit pass at count", metric("m", "interval: 10s\ncount: 3\nfailureLimit: 1"), &[&[S, F, S]])
            .at(&[&[0, 10, 20]]),
        case("string limits (from args) work", metric("m", "interval: 10s\ncount: \"2\"\nfailureLimit: \"0\""), &[&[S, F]])
            .ends(F, Some("Metric \"m\" assessed Failed due to failed (1) > failureLimit (0)"))
            .at(&[&[0, 10]]),
        case(
            "failureLimit -1 ends on consecutive successes",
            metric("m", "interval: 10s\nfailureLimit: -1\nconsecutiveSuccessLimit: 2"),
            &[&[F, S, F, S, S]],
        )
        .at(&[&[0, 10, 20, 30, 40]]),
        case(
            "both limits active, neither reached at count: Inconclusive",
            metric("m", "interval: 10s\ncount: 4\nfailureLimit: 2\nconsecutiveSuccessLimit: 3"),
            &[&[S, F, S, S]],
        )
        .ends(I, None)
        .at(&[&[0, 10, 20, 30]]),
        case(
            "only the success limit active, not reached at count: Failed",
            metric("m", "interval: 10s\ncount: 3\nfailureLimit: -1\nconsecutiveSuccessLimit: 3"),
            &[&[S, F, S]],
        )
        .ends(F, None)
        .at(&[&[0, 10, 20]]),
        case(
            "errors retry after 10s and error out on the fifth (limit 4)",
            metric("m", "interval: 60s\ncount: 3"),
            &[&[E]],
        )
        .ends(
            E,
            Some(
                "Metric \"m\" assessed Error due to consecutiveErrors (5) > consecutiveErrorLimit (4): \"Error Message: connection refused\"",
            ),
        )
        .at(&[&[0, 10, 20, 30, 40]]),
        case("consecutiveErrorLimit 0 errors at once", metric("m", "consecutiveErrorLimit: 0"), &[&[E]])
            .ends(E, None)
            .at(&[&[0]]),
        case("an error does not count towards count", metric("m", "interval: 60s\ncount: 2"), &[&[E, S, S]])
            .at(&[&[0, 10, 70]]),
        case("an inconclusive measurement over the limit", metric("m", "interval: 10s\ncount: 3"), &[&[I]])
            .ends(I, Some("Metric \"m\" assessed Inconclusive due to inconclusive (1) > inconclusiveLimit (0)"))
            .at(&[&[0]]),
        case("inconclusiveLimit tolerates", metric("m", "interval: 10s\ncount: 3\ninconclusiveLimit: 1"), &[&[I, S, S]])
            .at(&[&[0, 10, 20]]),
        case("initialDelay postpones the first measurement", metric("m", "initialDelay: 30s\ninterval: 10s\ncount: 2"), &[&[S]])
            .at(&[&[30, 40]]),
        case("unbounded metric runs until terminated, then passes", metric("m", "interval: 10s"), &[&[S]])
            .terminate(35)
            .ends(S, Some("Run Terminated"))
            .at(&[&[0, 10, 20, 30]]),
        case("terminated before any measurement: Successful", metric("m", "initialDelay: 1m"), &[&[S]])
            .terminate(5)
            .ends(S, Some("Run Terminated"))
            .at(&[&[]]),
        case("terminated with failures under the limit: Successful", metric("m", "interval: 10s\nfailureLimit: 1"), &[&[F]])
            .terminate(5)
            .ends(S, Some("Run Terminated"))
            .at(&[&[0]]),
        case(
            "fail-fast: a failed metric stops the others",
            format!("{}{}", metric("a", "interval: 10s\ncount: 3"), metric("b", "interval: 10s\ncount: 5")),
            &[&[S, F], &[S]],
        )
        .ends(F, Some("Metric \"a\" assessed Failed due to failed (1) > failureLimit (0)"))
        .at(&[&[0, 10], &[0, 10]]),
        case(
            "the worst completed metric decides: Failed beats Error",
            format!("{}{}", metric("a", "consecutiveErrorLimit: 0"), metric("b", "")),
            &[&[E], &[F]],
        )
        .ends(F, Some("Metric \"b\" assessed Failed due to failed (1) > failureLimit (0)"))
        .at(&[&[0], &[0]]),
        case(
            "a dry-run metric never fails the run",
            format!("{}{}", metric("a", ""), metric("dry-b", "")),
            &[&[S], &[F]],
        )
        .with("dryRun:\n- metricName: dry-.*\n")
        .at(&[&[0], &[0]]),
        case("an in-flight measurement is resumed", metric("m", ""), &[&[R]]).at(&[&[0]]),
        case("an in-flight measurement is terminated", metric("m", "interval: 10s"), &[&[R]])
            .terminate(2)
            .ends(S, Some("Run Terminated"))
            .at(&[&[0]]),
    ]
}

#[test]
fn run_state_machine_table() {
    let mut failures = Vec::new();
    for case in cases() {
        let spec = spec(&format!("metrics:\n{}{}", case.metrics, case.extra));
        let trace = drive(&spec, case.outcomes, case.terminate_at, 3600);
        let problems = [
            (trace.status.phase != Some(case.phase))
                .then(|| format!("phase {:?} (message {:?})", trace.status.phase, trace.status.message)),
            (case.message.is_some() && trace.status.message.as_deref() != case.message)
                .then(|| format!("message {:?}", trace.status.message)),
            (!case.taken.is_empty() && trace.taken.iter().map(Vec::as_slice).ne(case.taken.iter().copied()))
                .then(|| format!("measured at {:?}", trace.taken)),
            trace
                .status
                .completed_at
                .is_none()
                .then(|| format!("not completed at {}s", trace.end)),
        ];
        for problem in problems.into_iter().flatten() {
            failures.push(format!("{}: {problem}", case.name));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn summaries_retention_and_dry_run_messages() {
    let retained = spec(&format!(
        "metrics:\n{}{}measurementRetention:\n- metricName: keep\n  limit: 2\ndryRun:\n- metricName: dry\n",
        metric("keep", "interval: 10s\ncount: 5"),
        metric("dry", "")
    ));
    let trace = drive(&retained, &[&[S], &[F]], None, 3600);
    let status = &trace.status;
    assert_eq!(status.phase, Some(S));
    let keep = &status.metric_results[0];
    assert_eq!((keep.count, keep.successful, keep.measurements.len()), (5, 5, 2));
    let summary = status.run_summary.clone().unwrap();
    assert_eq!((summary.count, summary.successful), (1, 1));
    let dry = status.dry_run_summary.clone().unwrap();
    assert_eq!((dry.count, dry.failed), (1, 1));
    assert_eq!(status.metric_results[1].dry_run, Some(true));
    assert_eq!(
        status.metric_results[1].message.as_deref(),
        Some("Metric assessed Failed due to failed (1) > failureLimit (0)")
    );
    // Ten measurements are kept by default.
    let trace = drive(
        &spec(&format!("metrics:\n{}", metric("m", "interval: 1s\ncount: 12"))),
        &[&[S]],
        None,
        60,
    );
    assert_eq!(trace.status.metric_results[0].measurements.len(), 10);
}

#[test]
fn wakes_exactly_at_the_next_measurement() {
    let spec = spec(&format!(
        "metrics:\n{}{}",
        metric("slow", "interval: 5m\ncount: 2"),
        metric("fast", "initialDelay: 30s\ninterval: 1m\ncount: 2")
    ));
    let run = compile(&spec, &ResolvedArgs::default(), SUPPORTED).unwrap();
    let measured = |i| {
        (
            i,
            Measurement {
                phase: Some(S),
                finished_at: Some(Time(t0())),
                ..Measurement::default()
            },
        )
    };
    let first = advance(&run, &AnalysisRunStatus::default(), t0(), vec![measured(0)]);
    assert_eq!(first.wake_at.map(secs), Some(30), "fast's initial delay comes first");
    assert_eq!(first.status.phase, Some(R));
    assert!(tasks(&run, &first.status, t0() + SignedDuration::from_secs(29)).is_empty());
    let due = tasks(&run, &first.status, t0() + SignedDuration::from_secs(30));
    assert_eq!(due.iter().map(|t| t.metric).collect::<Vec<_>>(), vec![1]);
}

#[test]
fn events_and_completion() {
    let spec = spec(&format!("metrics:\n{}", metric("m", "")));
    let run = compile(&spec, &ResolvedArgs::default(), SUPPORTED).unwrap();
    let failed = Measurement {
        phase: Some(F),
        ..Measurement::default()
    };
    let next = advance(&run, &AnalysisRunStatus::default(), t0(), vec![(0, failed)]);
    let reasons: Vec<_> = next.events.iter().map(|e| (e.reason.as_ref(), e.warning)).collect();
    assert_eq!(reasons, vec![("MetricFailed", true), ("AnalysisRunFailed", true)]);
    assert_eq!(next.status.completed_at, Some(Time(t0())));
    assert_eq!(
        next.status.metric_results[0].measurements[0].finished_at,
        Some(Time(t0()))
    );
    // A completed run does not change any more.
    let again = advance(&run, &next.status, t0() + SignedDuration::from_secs(60), Vec::new());
    assert_eq!(again.status, next.status);
    assert!(again.events.is_empty());
}

#[test]
fn ttl_strategy() {
    let completed = |phase| AnalysisRunStatus {
        phase: Some(phase),
        completed_at: Some(Time(t0())),
        ..AnalysisRunStatus::default()
    };
    let ttl: crds::analysis::TtlStrategy =
        crds::yaml::from_str("secondsAfterCompletion: 600\nsecondsAfterSuccess: 60\nsecondsAfterFailure: 300").unwrap();
    assert_eq!(expires_at(Some(&ttl), &completed(S)).map(secs), Some(60));
    assert_eq!(expires_at(Some(&ttl), &completed(F)).map(secs), Some(300));
    let only_completion: crds::analysis::TtlStrategy = crds::yaml::from_str("secondsAfterCompletion: 600").unwrap();
    assert_eq!(expires_at(Some(&only_completion), &completed(E)).map(secs), Some(600));
    assert_eq!(expires_at(None, &completed(S)), None);
    assert_eq!(expires_at(Some(&ttl), &AnalysisRunStatus::default()), None);
}

#[test]
fn compile_errors_name_the_metric_and_field() {
    let cases = [
        (
            "metrics:\n- name: m\n  provider:\n    datadog:\n      query: avg:x\n",
            "metrics[0] (\"m\") provider: provider datadog is not supported",
        ),
        (
            "metrics:\n- name: m\n  provider: {}\n",
            "metrics[0] (\"m\") provider: no provider is set",
        ),
        (
            "metrics:\n- name: m\n  interval: soon\n  provider:\n    web:\n      url: http://x/\n",
            "metrics[0] (\"m\") interval: invalid duration \"soon\"",
        ),
        (
            "metrics:\n- name: m\n  successCondition: result[\n  provider:\n    web:\n      url: http://x/\n",
            "metrics[0] (\"m\") successCondition: cannot parse \"result[\" at line 1 column 8",
        ),
        (
            "metrics:\n- name: m\n  failureLimit: -1\n  provider:\n    web:\n      url: http://x/\n",
            "failureLimit -1 needs consecutiveSuccessLimit > 0",
        ),
        (
            "metrics:\n- name: m\n  provider:\n    web:\n      url: http://x/\n- name: m\n  provider:\n    web:\n      url: http://x/\n",
            "metrics[1]: metric name \"m\" is used twice",
        ),
        (
            "metrics:\n- name: m\n  provider:\n    web:\n      url: \"{{args.host}}\"\n",
            "metric \"m\" uses {{args.host}}, which is not an argument of the run",
        ),
        (
            "metrics:\n- name: m\n  count: \"{{args.n}}\"\n  provider:\n    web:\n      url: http://x/\nargs:\n- name: n\n",
            "metrics[0] (\"m\") count: \"five\" is not an integer",
        ),
    ];
    for (yaml, want) in cases {
        let spec = spec(yaml);
        let mut args = ResolvedArgs::default();
        args.values.insert("n".into(), "five".into());
        let error = compile(&spec, &args, SUPPORTED).unwrap_err();
        assert!(error.contains(want), "{yaml}\n got: {error}\nwant: {want}");
    }
}
