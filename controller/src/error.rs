//! The controller's error type: each names the object (and field or write) it concerns, and is
//! classified so the error policy and the metrics can act on its kind.

use std::fmt;

/// The object an error concerns: kind, namespace and name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectKey {
    /// Kind, e.g. `ReplicaSet`.
    pub kind: &'static str,
    /// Namespace (`None` for cluster-scoped objects).
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
}

impl ObjectKey {
    /// A namespaced object.
    #[must_use]
    pub fn namespaced(kind: &'static str, namespace: &str, name: &str) -> Self {
        Self {
            kind,
            namespace: Some(namespace.to_string()),
            name: name.to_string(),
        }
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {ns}/{}", self.kind, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// A reconcile that could not finish.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A Kubernetes API call failed.
    #[error("{verb} {object}")]
    Kube {
        /// What was being done, e.g. `scaling`.
        verb: &'static str,
        /// The object it was done to.
        object: Box<ObjectKey>,
        /// The client error.
        #[source]
        source: kube::Error,
    },
    /// An object lacks a field every stored object has.
    #[error("{kind} {name:?} has no {field}")]
    MissingField {
        /// Kind of the object.
        kind: &'static str,
        /// Its name.
        name: String,
        /// The field, e.g. `metadata.namespace`.
        field: &'static str,
    },
    /// Something the decision needed could not be read (only a 404 is absent): nothing was
    /// decided, and the object is retried with backoff.
    #[error("{object}: nothing decided: {}", .unreadable.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Undecided {
        /// The object whose reconcile was held.
        object: Box<ObjectKey>,
        /// What could not be read, and why.
        unreadable: Vec<crate::read::Unreadable>,
    },
    /// A value could not be serialized.
    #[error("cannot serialize {what} of {object}")]
    Serialize {
        /// What was serialized.
        what: &'static str,
        /// The object it belongs to.
        object: Box<ObjectKey>,
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
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Transient => "transient",
            Self::Conflict => "conflict",
            Self::Invalid => "invalid",
        }
    }
}

impl Error {
    /// Wraps a client error with what was being done to which object.
    #[must_use]
    pub fn kube(verb: &'static str, object: ObjectKey, source: kube::Error) -> Self {
        Self::Kube {
            verb,
            object: Box::new(object),
            source,
        }
    }

    /// The error with all its causes, joined by `: `.
    #[must_use]
    pub fn chain(&self) -> String {
        chain(self)
    }

    /// The kind of error.
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Kube {
                source: kube::Error::Api(status),
                ..
            } if status.code == 409 => ErrorKind::Conflict,
            Self::Kube { .. } | Self::Undecided { .. } => ErrorKind::Transient,
            Self::MissingField { .. } | Self::Serialize { .. } => ErrorKind::Invalid,
        }
    }
}

pub use crds::errors::chain;

/// Result with the controller's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_object_and_what_was_done() {
        let status = kube::core::Status {
            code: 409,
            message: "the object has been modified".into(),
            ..kube::core::Status::default()
        };
        let error = Error::kube(
            "writing the status of",
            ObjectKey::namespaced("Rollout", "shop", "api"),
            kube::Error::Api(Box::new(status)),
        );
        assert_eq!(error.to_string(), "writing the status of Rollout shop/api");
        assert!(
            error.chain().contains("the object has been modified"),
            "{}",
            error.chain()
        );
        assert_eq!(error.kind(), ErrorKind::Conflict);
        let missing = Error::MissingField {
            kind: "Rollout",
            name: "api".into(),
            field: "metadata.namespace",
        };
        assert_eq!(missing.to_string(), "Rollout \"api\" has no metadata.namespace");
        assert_eq!(missing.kind(), ErrorKind::Invalid);
    }
}
