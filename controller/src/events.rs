//! Publishing Kubernetes Events on the objects the reconcilers act on.

use crds::events::Event as Planned;
use kube::runtime::events::{Event, EventType, Recorder};

/// Publishes events on `reference`; a failure to record one is logged, never fatal.
pub async fn publish(
    recorder: &Recorder,
    reference: &k8s_openapi::api::core::v1::ObjectReference,
    action: &str,
    events: &[Planned],
) {
    for note in events {
        let event = Event {
            type_: if note.warning {
                EventType::Warning
            } else {
                EventType::Normal
            },
            reason: note.reason.to_string(),
            note: Some(note.message.clone()),
            action: action.to_string(),
            secondary: None,
        };
        if let Err(error) = recorder.publish(&event, reference).await {
            tracing::warn!(%error, reason = %note.reason, "cannot record event");
        }
    }
}
