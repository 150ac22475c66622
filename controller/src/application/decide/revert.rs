//! Auto-revert in the Application decision: a revision that is Synced and Healthy becomes the
//! known-good one (`sluice.dev/healthy-revision`); an Application Degraded on a later revision,
//! because a Rollout it manages is Degraded (at once) or any resource stays Degraded past the
//! grace period (`sluice.dev/auto-revert-grace`, default 2 min), gets `gitops::revert`'s verdict:
//! the reverts to push, or a dry-run report, or a refusal, each said in a condition and an Event.

use crds::gitops::StoredApplication;
use gitops::revert::keep_out::{self, REVERTED_TEMPLATES_ANNOTATION, Reverted};
use gitops::revert::{Situation, Verdict};

use super::super::plan::{Action, Decision};
use super::super::snapshot::{Observed, Resource, Snapshot};
use super::resources::{group_version, resource_health};

pub use crds::keys::GRACE_ANNOTATION;
pub use crds::keys::HEALTHY_REVISION_ANNOTATION;

fn annotation<'a>(app: &'a StoredApplication, key: &str) -> Option<&'a str> {
    app.metadata.annotations.as_ref()?.get(key).map(String::as_str)
}

/// The known-good bookkeeping and the revert decision; a condition message when one applies.
pub(super) fn decide(snap: &Snapshot, observed: &Observed, d: &mut Decision) -> Option<(&'static str, String)> {
    if !snap.auto_revert {
        return None;
    }
    let status = &d.status;
    let health = status
        .health
        .as_ref()
        .and_then(|h| h.status.as_deref())
        .unwrap_or_default();
    let synced = status.sync.as_ref().is_some_and(|s| s.status == "Synced");
    let running = status.operation_state.as_ref().is_some_and(|o| o.phase == "Running");
    let known = annotation(&snap.app, HEALTHY_REVISION_ANNOTATION);
    if synced && health == "Healthy" && !running && known != Some(observed.revision.as_str()) {
        d.actions.push(Action::MarkHealthy {
            revision: observed.revision.clone(),
        });
        return None;
    }
    let inputs = snap.revert.as_ref()?;
    if health != "Degraded" || running {
        return None;
    }
    let degraded: Vec<String> = observed
        .resources
        .iter()
        .filter_map(|r| {
            let h = resource_health(r)?;
            (h.status == gitops::health::HealthStatus::Degraded).then(|| {
                let kind = r.desired["kind"].as_str().unwrap_or_default();
                let name = r
                    .desired
                    .pointer("/metadata/name")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or_default();
                format!("{kind} {name}: {}", h.message)
            })
        })
        .collect();
    if within_grace(snap, observed, d) {
        return None;
    }
    let application = format!(
        "{}/{}",
        snap.app.metadata.namespace.clone().unwrap_or_default(),
        snap.name()
    );
    let source = snap.app.spec.primary_source();
    let input = if inputs.input.is_empty() {
        vec![source.and_then(|s| s.path.clone()).unwrap_or_default()]
    } else {
        inputs.input.clone()
    };
    let why = degraded
        .iter()
        .chain(&inputs.analysis)
        .cloned()
        .collect::<Vec<_>>()
        .join("\n");
    let situation = Situation {
        application: &application,
        mode: if inputs.dry_run {
            gitops::revert::Mode::DryRun
        } else {
            gitops::revert::Mode::On
        },
        pinned: inputs.branch.is_none(),
        known_good: inputs.known_good.as_deref(),
        commits: &inputs.commits,
        input: &input,
        already_reverted: &inputs.already_reverted,
        recent: inputs.recent,
        why: &why,
    };
    let verdict = gitops::revert::decide(&situation);
    carry_out(verdict, &situation, snap, observed, d)
}

/// Whether the revert waits: unless a Rollout is Degraded (an aborted canary is judged at once),
/// the Application gets the grace period after its last sync (`sluice.dev/auto-revert-grace`),
/// and is woken when it ends.
fn within_grace(snap: &Snapshot, observed: &Observed, d: &mut Decision) -> bool {
    let rollout_down = observed.resources.iter().any(|r| {
        group_version(&r.desired).0 == "argoproj.io"
            && r.desired["kind"] == "Rollout"
            && resource_health(r).is_some_and(|h| h.status == gitops::health::HealthStatus::Degraded)
    });
    if rollout_down {
        return false;
    }
    let grace = annotation(&snap.app, GRACE_ANNOTATION)
        .and_then(|g| crds::duration::parse(g).ok())
        .map_or(120_000, |g| g.as_nanos() / 1_000_000);
    let since = d
        .status
        .operation_state
        .as_ref()
        .and_then(|o| o.finished_at.as_ref())
        .map(|t| t.0);
    match since.map(|s| s + jiff::SignedDuration::from_millis(grace)) {
        Some(due) if snap.now < due => {
            d.wake_at(due);
            true
        }
        None => true,
        Some(_) => false,
    }
}

/// The verdict in the decision: an Event, and the reverts to push (with the templates automated
/// syncs keep out), or the condition a refusal or a dry run sets.
fn carry_out(
    verdict: Verdict,
    situation: &Situation<'_>,
    snap: &Snapshot,
    observed: &Observed,
    d: &mut Decision,
) -> Option<(&'static str, String)> {
    match verdict {
        Verdict::Nothing => None,
        Verdict::Refused(reason) => {
            d.event(true, "AutoRevertRefused", reason.clone());
            Some(("AutoRevertRefused", reason))
        }
        Verdict::Revert { reverts, dry_run: true } => {
            let said = reverts
                .iter()
                .map(|r| format!("would revert {}:\n{}", r.original, r.message))
                .collect::<Vec<_>>()
                .join("\n");
            d.event(false, "AutoRevertDryRun", said.clone());
            Some(("AutoRevertDryRun", said))
        }
        Verdict::Revert {
            reverts,
            dry_run: false,
        } => {
            let inputs = snap.revert.as_ref()?;
            let branch = inputs.branch.clone().unwrap_or_default();
            let shas: Vec<&str> = reverts.iter().map(|r| &r.original[..r.original.len().min(7)]).collect();
            d.event(
                true,
                "AutoRevert",
                format!("reverting {} on {branch}: {}", shas.join(", "), situation.why),
            );
            let newest = reverts.first().map(|r| r.original.clone()).unwrap_or_default();
            let taken_out = keep_out::templates_of(
                observed.resources.iter().filter(|r| is_degraded(r)).map(|r| &r.desired),
                &newest,
            );
            if !taken_out.is_empty() {
                let annotation = keep_out::record(recorded(snap), taken_out);
                d.actions.push(Action::KeepOut { annotation });
            }
            let squash = (inputs.squash && reverts.len() > 1)
                .then(|| gitops::revert::squashed_message(&reverts, situation.application, situation.why));
            d.actions.push(Action::Revert {
                branch,
                reverts,
                squash,
            });
            None
        }
    }
}

fn is_degraded(r: &Resource) -> bool {
    resource_health(r).is_some_and(|h| h.status == gitops::health::HealthStatus::Degraded)
}

fn recorded(snap: &Snapshot) -> Vec<Reverted> {
    keep_out::recorded(annotation(&snap.app, REVERTED_TEMPLATES_ANNOTATION))
}

/// The reverted templates the observed revision brings back, which automated syncs keep out.
pub(super) fn brought_back(snap: &Snapshot, observed: &Observed) -> Vec<Reverted> {
    let recorded = recorded(snap);
    keep_out::brought_back(&recorded, observed.resources.iter().map(|r| &r.desired))
        .into_iter()
        .cloned()
        .collect()
}

/// The `RevertedChangeBlocked` message.
pub(super) fn blocked_message(back: &[Reverted], revision: &str) -> String {
    let short = |s: &str| s[..s.len().min(7)].to_owned();
    let which: Vec<String> = back
        .iter()
        .map(|r| format!("{} (reverted with {})", r.resource, short(&r.commit)))
        .collect();
    format!(
        "revision {} brings back the pod template Sluice reverted: {}; automated sync keeps it out until it is synced by hand (kubectl sluice app sync APP --allow-reverted) or the template changes",
        short(revision),
        which.join(", ")
    )
}

/// A manual sync of reverted templates lets them in again: they are no longer kept out.
pub(super) fn let_in(snap: &Snapshot, back: &[Reverted], d: &mut Decision) {
    if back.is_empty() {
        return;
    }
    let mut kept = recorded(snap);
    kept.retain(|r| !back.contains(r));
    d.actions.push(Action::KeepOut {
        annotation: keep_out::record(kept, Vec::new()),
    });
    let which: Vec<&str> = back.iter().map(|r| r.resource.as_str()).collect();
    d.event(
        false,
        "RevertedChangeAllowed",
        format!(
            "a manual sync deploys the reverted template of {} again",
            which.join(", ")
        ),
    );
}
