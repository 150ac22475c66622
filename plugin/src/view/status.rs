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

/// A status as shown: its icon and its word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Badge {
    /// The icon.
    pub icon: Icon,
    /// The word (`Healthy`, `Running`, ...).
    pub text: String,
}

impl Badge {
    fn new(icon: Icon, text: impl Into<String>) -> Self {
        Self {
            icon,
            text: text.into(),
        }
    }
}

/// A Rollout's status as clients show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RolloutState {
    /// The icon.
    pub icon: Icon,
    /// The phase (`Healthy`, `Progressing`, `Paused`, `Degraded`, `Unknown`).
    pub phase: String,
    /// The message (may be empty).
    pub message: String,
}

impl RolloutState {
    fn new(icon: Icon, phase: &str, message: impl Into<String>) -> Self {
        Self {
            icon,
            phase: phase.to_string(),
            message: message.into(),
        }
    }

    /// The icon and phase.
    #[must_use]
    pub fn badge(&self) -> Badge {
        Badge::new(self.icon, self.phase.clone())
    }
}

/// The icon, phase and message of a Rollout, as clients read them (Argo's `rolloututil.GetRolloutPhase` on the client side): Progressing
/// while the controller has not seen the latest spec, or a person resumed and it has not acted yet.
#[must_use]
pub fn rollout_status(rollout: &Rollout) -> RolloutState {
    let status = rollout.status.clone().unwrap_or_default();
    let progressing = RolloutPhase::Progressing.as_str();
    let generation = rollout.metadata.generation.map(|g| g.to_string());
    if status.observed_generation.is_none() || status.observed_generation != generation {
        return RolloutState::new(
            Icon::Progressing,
            progressing,
            "waiting for rollout spec update to be observed",
        );
    }
    if status.controller_pause == Some(true)
        && status.pause_conditions.is_empty()
        && status.phase == Some(RolloutPhase::Paused)
    {
        return RolloutState::new(Icon::Progressing, progressing, "waiting for rollout to unpause");
    }
    let message = status.message.clone().unwrap_or_default();
    let Some(phase) = status.phase else {
        return RolloutState::new(Icon::Unknown, "Unknown", message);
    };
    let icon = match phase {
        RolloutPhase::Healthy => Icon::Ok,
        RolloutPhase::Progressing => Icon::Progressing,
        RolloutPhase::Paused => Icon::Paused,
        RolloutPhase::Degraded => Icon::Bad,
    };
    RolloutState::new(icon, phase.as_str(), message)
}

/// The icon of an AnalysisRun or metric phase.
#[must_use]
pub fn analysis_icon(phase: Option<AnalysisPhase>) -> Badge {
    let phase = phase.unwrap_or(AnalysisPhase::Pending);
    let icon = match phase {
        AnalysisPhase::Successful => Icon::Ok,
        AnalysisPhase::Running => Icon::Progressing,
        AnalysisPhase::Failed => Icon::Bad,
        AnalysisPhase::Error | AnalysisPhase::Inconclusive => Icon::Warning,
        AnalysisPhase::Pending => Icon::Waiting,
    };
    Badge::new(icon, phase.as_str())
}

/// The status of a ReplicaSet: scaled down, all pods available, or on its way.
#[must_use]
pub fn replicaset_badge(spec: i32, available: i32) -> Badge {
    if spec == 0 {
        Badge::new(Icon::ScaledDown, "ScaledDown")
    } else if available >= spec {
        Badge::new(Icon::Ok, "Healthy")
    } else {
        Badge::new(Icon::Progressing, "Progressing")
    }
}
