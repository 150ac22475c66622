//! Automatic rollback in Git, decided purely: whether to revert, which commits, and the commit
//! message (with the `Sluice-Revert-Of` and `Sluice-Application` trailers that make it
//! idempotent). The Git work (revert, push, retries) is `repo::revert`; the trigger is the
//! Application reconciler's.
//!
//! Rules: opt-in per Application (`sluice.dev/auto-revert: "true"` or `dry-run`); never without
//! a known-good revision; never on an Application pinned to a tag or SHA; never a Sluice revert;
//! never a commit already reverted (its trailer is in history); at most a few reverts per hour;
//! only commits that changed the Application's input, newest first, and of a commit that also
//! changed other files only the input files.
//!
//! [`keep_out`]: a reverted pod template pushed again is held out of automated syncs.

pub mod evidence;
pub mod keep_out;

pub use crds::keys::AUTO_REVERT_ANNOTATION;
/// The trailer naming the commit a revert reverts.
pub const REVERT_OF_TRAILER: &str = "Sluice-Revert-Of";
/// The trailer naming the Application.
pub const APPLICATION_TRAILER: &str = "Sluice-Application";

/// Whether and how auto-revert acts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Not at all.
    Off,
    /// Revert and push.
    On,
    /// Say what would be done; push nothing.
    DryRun,
}

/// The mode from the annotation (`"true"`, `"false"`, `"dry-run"`), else the controller default.
#[must_use]
pub fn mode(annotation: Option<&str>, default_on: bool) -> Mode {
    match annotation.map(str::trim) {
        Some("true") => Mode::On,
        Some("dry-run") => Mode::DryRun,
        Some("false") => Mode::Off,
        _ if default_on => Mode::On,
        _ => Mode::Off,
    }
}

/// A commit between the known-good revision and the one synced now.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Commit {
    /// Full SHA.
    pub sha: String,
    /// First line of the message.
    pub subject: String,
    /// Files it changed (against its first parent).
    pub paths: Vec<String>,
    /// The value of its `Sluice-Revert-Of` trailer, when it is a Sluice revert.
    pub reverts: Option<String>,
}

/// What the decision looks at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Situation<'a> {
    /// `namespace/name` of the Application.
    pub application: &'a str,
    /// The mode.
    pub mode: Mode,
    /// Whether `targetRevision` names a tag or a SHA (nothing to push onto).
    pub pinned: bool,
    /// The last revision that was synced and Healthy.
    pub known_good: Option<&'a str>,
    /// The commits after `known_good` up to the revision synced now, newest first.
    pub commits: &'a [Commit],
    /// The Application's input: the source path (and, for Kustomize, the folders the build read).
    pub input: &'a [String],
    /// Commits already reverted (from `Sluice-Revert-Of` trailers anywhere in history).
    pub already_reverted: &'a [String],
    /// Reverts of this Application in the last hour, and the limit.
    pub recent: (u32, u32),
    /// Why the Application is Degraded (Rollout, AnalysisRun, metric, value; or resource and health).
    pub why: &'a str,
}

/// One revert to make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revert {
    /// The commit reverted.
    pub original: String,
    /// The revert's message, trailers included.
    pub message: String,
    /// `Some`: only these files are reverted (the commit also changed files outside the input).
    pub only: Option<Vec<String>>,
}

/// The decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing to do (off, or already reverted).
    Nothing,
    /// Refused, and why (a condition and an Event say it).
    Refused(String),
    /// Revert these, newest first (or only say so, in dry-run mode).
    Revert {
        /// The reverts.
        reverts: Vec<Revert>,
        /// Dry run: push nothing.
        dry_run: bool,
    },
}

fn under(path: &str, input: &[String]) -> bool {
    input.iter().any(|i| {
        let i = i.trim_matches('/');
        i.is_empty() || i == "." || path == i || path.starts_with(&format!("{i}/"))
    })
}

/// The message of the revert of `commit`.
#[must_use]
pub fn message(commit: &Commit, application: &str, why: &str, only: Option<&[String]>) -> String {
    let mut body = format!(
        "Sluice reverted {} because Application {application} became Degraded after syncing it:\n{why}\n",
        commit.sha
    );
    if let Some(only) = only {
        body.push_str(&format!(
            "\nThe commit also changed files outside this Application's input; only these are reverted:\n{}\n",
            only.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n")
        ));
    }
    format!(
        "Revert \"{}\"\n\n{body}\n{REVERT_OF_TRAILER}: {}\n{APPLICATION_TRAILER}: {application}\n",
        commit.subject, commit.sha
    )
}

/// Decides what to revert.
#[must_use]
pub fn decide(s: &Situation<'_>) -> Verdict {
    if s.mode == Mode::Off {
        return Verdict::Nothing;
    }
    if s.pinned {
        return Verdict::Refused(
            "the Application is pinned to a tag or a commit: there is no branch to push a revert to (target a branch to use auto-revert)".into(),
        );
    }
    let Some(good) = s.known_good else {
        return Verdict::Refused(
            "no known-good revision: Sluice never reverts without a revision that was synced and Healthy".into(),
        );
    };
    if let Some(newest) = s.commits.first()
        && newest.reverts.is_some()
    {
        return Verdict::Refused(format!(
            "the revision synced now ({}) is a Sluice revert: a revert is never reverted",
            newest.sha
        ));
    }
    let culprits: Vec<&Commit> = s
        .commits
        .iter()
        .filter(|c| c.reverts.is_none() && c.paths.iter().any(|p| under(p, s.input)))
        .filter(|c| !s.already_reverted.contains(&c.sha))
        .collect();
    if culprits.is_empty() {
        return Verdict::Nothing;
    }
    let (recent, limit) = s.recent;
    if recent + u32::try_from(culprits.len()).unwrap_or(u32::MAX) > limit {
        return Verdict::Refused(format!(
            "{recent} reverts in the last hour (limit {limit}): a person must look (last good revision {good})"
        ));
    }
    let reverts = culprits
        .into_iter()
        .map(|c| {
            let inside: Vec<String> = c.paths.iter().filter(|p| under(p, s.input)).cloned().collect();
            let only = (inside.len() < c.paths.len()).then_some(inside);
            Revert {
                original: c.sha.clone(),
                message: message(c, s.application, s.why, only.as_deref()),
                only,
            }
        })
        .collect();
    Verdict::Revert {
        reverts,
        dry_run: s.mode == Mode::DryRun,
    }
}

/// The message of one commit reverting all of `reverts` (`--revert-squash`): a `Sluice-Revert-Of`
/// trailer for each, so every one counts as reverted.
#[must_use]
pub fn squashed_message(reverts: &[Revert], application: &str, why: &str) -> String {
    let listed: Vec<String> = reverts
        .iter()
        .map(|r| {
            let subject = r.message.lines().next().unwrap_or_default();
            let subject = subject.strip_prefix("Revert ").unwrap_or(subject);
            let only = r
                .only
                .as_ref()
                .map_or(String::new(), |o| format!(" (only {})", o.join(", ")));
            format!("- {} {subject}{only}", &r.original[..r.original.len().min(12)])
        })
        .collect();
    let trailers: Vec<String> = reverts
        .iter()
        .map(|r| format!("{REVERT_OF_TRAILER}: {}", r.original))
        .collect();
    format!(
        "Revert {} commits that made {application} Degraded\n\nSluice reverted these commits because Application {application} became Degraded after syncing them:\n{why}\n\n{}\n\n{}\n{APPLICATION_TRAILER}: {application}\n",
        reverts.len(),
        listed.join("\n"),
        trailers.join("\n"),
    )
}

/// Every value of `trailer` in a commit message (a squashed revert names several commits).
pub fn trailers<'a>(message: &'a str, trailer: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    message
        .lines()
        .filter_map(move |l| l.strip_prefix(trailer).and_then(|r| r.strip_prefix(':')).map(str::trim))
}

/// The value of `trailer` in a commit message (last occurrence), as `git interpret-trailers` reads it.
#[must_use]
pub fn trailer<'a>(message: &'a str, trailer: &str) -> Option<&'a str> {
    message
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix(trailer).and_then(|r| r.strip_prefix(':')).map(str::trim))
}

#[cfg(test)]
mod tests;
