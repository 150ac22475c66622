//! The one shape of a Kubernetes Event a decision asks for, whichever reconciler decides it
//! (Rollouts, AnalysisRuns, Applications, ApplicationSets): pure data, published by the
//! controller's `events::publish`.

use std::borrow::Cow;

/// An Event to publish on the object a decision is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Warning rather than Normal.
    pub warning: bool,
    /// Argo's machine-readable reason, e.g. `RolloutStepCompleted`, `OperationCompleted`.
    pub reason: Cow<'static, str>,
    /// What happened, for people.
    pub message: String,
}

impl Event {
    /// A Normal event.
    #[must_use]
    pub fn normal(reason: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self {
            warning: false,
            reason: reason.into(),
            message: message.into(),
        }
    }

    /// A Warning event.
    #[must_use]
    pub fn warning(reason: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self {
            warning: true,
            reason: reason.into(),
            message: message.into(),
        }
    }

    /// A Warning event when `warning`, else a Normal one.
    #[must_use]
    pub fn new(warning: bool, reason: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self {
            warning,
            reason: reason.into(),
            message: message.into(),
        }
    }
}
