//! Status icons and the status of each kind of object, as `kubectl argo rollouts get` shows them.

use crds::Rollout;
use crds::analysis::AnalysisPhase;
use crds::rollout::RolloutPhase;

/// A status icon.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Icon {
    /// ✔
    Ok,
    /// ◌
    Progressing,
    /// ॥
    Paused,
    /// ✖
    Bad,
    /// ⚠
    Warning,
    /// ◷
    Waiting,
    /// •
    ScaledDown,
    /// ?
    Unknown,
}

impl Icon {
    /// The glyph.
    #[must_use]
    pub fn glyph(self) -> &'static str {
        match self {
            Self::Ok => "✔",
            Self::Progressing => "◌",
            Self::Paused => "॥",
            Self::Bad => "✖",
            Self::Warning => "⚠",
            Self::Waiting => "◷",
            Self::ScaledDown => "•",
            Self::Unknown => "?",
        }
    }

    /// The ANSI colour code of the icon.
    #[must_use]
    pub fn colour(self) -> &'static str {
        match self {
            Self::Ok => "32",
            Self::Progressing | Self::Waiting => "36",
            Self::Paused => "90",
            Self::Bad => "31",
            Self::Warning => "33",
            Self::ScaledDown | Self::Unknown => "37",
        }
    }
}

/// The icon, phase and message of a Rollout, as clients read them (reference b8): Progressing
/// while the controller has not seen the latest spec, or a person resumed and it has not acted yet.
#[must_use]
pub fn rollout_status(rollout: &Rollout) -> (Icon, String, String) {
    let status = rollout.status.clone().unwrap_or_default();
    let generation = rollout.metadata.generation.map(|g| g.to_string());
    if status.observed_generation.is_none() || status.observed_generation != generation {
        return (
            Icon::Progressing,
            "Progressing".into(),
            "waiting for rollout spec update to be observed".into(),
        );
    }
    if status.controller_pause == Some(true)
        && status.pause_conditions.is_empty()
        && status.phase == Some(RolloutPhase::Paused)
    {
        return (
            Icon::Progressing,
            "Progressing".into(),
            "waiting for rollout to unpause".into(),
        );
    }
    let message = status.message.clone().unwrap_or_default();
    match status.phase {
        Some(RolloutPhase::Healthy) => (Icon::Ok, "Healthy".into(), message),
        Some(RolloutPhase::Progressing) => (Icon::Progressing, "Progressing".into(), message),
        Some(RolloutPhase::Paused) => (Icon::Paused, "Paused".into(), message),
        Some(RolloutPhase::Degraded) => (Icon::Bad, "Degraded".into(), message),
        None => (Icon::Unknown, "Unknown".into(), message),
    }
}

/// The icon of an AnalysisRun or metric phase.
#[must_use]
pub fn analysis_icon(phase: Option<AnalysisPhase>) -> (Icon, String) {
    match phase {
        Some(AnalysisPhase::Successful) => (Icon::Ok, "Successful".into()),
        Some(AnalysisPhase::Running) => (Icon::Progressing, "Running".into()),
        Some(AnalysisPhase::Failed) => (Icon::Bad, "Failed".into()),
        Some(AnalysisPhase::Error) => (Icon::Warning, "Error".into()),
        Some(AnalysisPhase::Inconclusive) => (Icon::Warning, "Inconclusive".into()),
        Some(AnalysisPhase::Pending) | None => (Icon::Waiting, "Pending".into()),
    }
}
