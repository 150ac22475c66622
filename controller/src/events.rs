//! Publishing Kubernetes Events on the objects the reconcilers act on.

use kube::runtime::events::{Event, EventType, Recorder};

/// One event to publish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note<'a> {
    /// Warning rather than Normal.
    pub warning: bool,
    /// Machine-readable reason.
    pub reason: &'a str,
    /// Human-readable message.
    pub message: &'a str,
}

/// Publishes events on `reference`; a failure to record one is logged, never fatal.
pub async fn publish(
    recorder: &Recorder,
    reference: &k8s_openapi::api::core::v1::ObjectReference,
    action: &str,
    notes: &[Note<'_>],
) {
    for note in notes {
        let event = Event {
            type_: if note.warning {
                EventType::Warning
            } else {
                EventType::Normal
            },
            reason: note.reason.to_string(),
            note: Some(note.message.to_string()),
            action: action.to_string(),
            secondary: None,
        };
        if let Err(error) = recorder.publish(&event, reference).await {
            tracing::warn!(%error, reason = note.reason, "cannot record event");
        }
    }
}
