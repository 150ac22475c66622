//! The controller's error type, classified so the error policy and metrics can act on the kind.

/// A reconcile that could not finish.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A Kubernetes API call failed.
    #[error("kubernetes API: {action}")]
    Kube {
        /// What was being done.
        action: String,
        /// The client error.
        #[source]
        source: kube::Error,
    },
    /// An object lacks a field every stored object has.
    #[error("object has no {0}")]
    MissingObjectKey(&'static str),
    /// A value could not be serialized.
    #[error("cannot serialize {what}")]
    Serialize {
        /// What was serialized.
        what: &'static str,
        /// The serde error.
        #[source]
        source: serde_json::Error,
    },
}

/// How to react to an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Try again soon (API hiccup, timeout).
    Transient,
    /// Someone else changed the object: reread and retry.
    Conflict,
    /// Retrying will not help until the object changes.
    Invalid,
}

impl ErrorKind {
    /// The label used in metrics.
    pub fn label(self) -> &'static str {
        match self {
            Self::Transient => "transient",
            Self::Conflict => "conflict",
            Self::Invalid => "invalid",
        }
    }
}

impl Error {
    /// Wraps a client error with what was being done.
    pub fn kube(action: impl Into<String>, source: kube::Error) -> Self {
        Self::Kube {
            action: action.into(),
            source,
        }
    }

    /// The error with all its causes, joined by `: `.
    pub fn chain(&self) -> String {
        let mut chain = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            chain.push_str(": ");
            chain.push_str(&cause.to_string());
            source = cause.source();
        }
        chain
    }

    /// The kind of error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Kube {
                source: kube::Error::Api(status),
                ..
            } if status.code == 409 => ErrorKind::Conflict,
            Self::Kube { .. } => ErrorKind::Transient,
            Self::MissingObjectKey(_) | Self::Serialize { .. } => ErrorKind::Invalid,
        }
    }
}

/// Result with the controller's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
