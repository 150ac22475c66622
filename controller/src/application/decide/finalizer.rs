//! Deleting an Application with the resources finalizer (`resources-finalizer.argocd.argoproj.io`,
//! foreground; `.../background` for a background cascade) deletes every resource it tracks, except
//! those marked `Delete=false`, then removes the finalizer. Without it, the resources are left.

use crds::keys::{RESOURCES_FINALIZER, RESOURCES_FINALIZER_BACKGROUND};

use super::super::plan::{Action, Decision, Propagation};
use super::super::snapshot::Snapshot;

/// The actions of a deletion.
pub(super) fn decide(snap: &Snapshot, d: &mut Decision) {
    let finalizers = snap.app.metadata.finalizers.clone().unwrap_or_default();
    let propagation = if finalizers.iter().any(|f| f == RESOURCES_FINALIZER) {
        Propagation::Foreground
    } else if finalizers.iter().any(|f| f == RESOURCES_FINALIZER_BACKGROUND) {
        Propagation::Background
    } else {
        return;
    };
    let remaining: Vec<_> = snap
        .extra
        .iter()
        .chain(&snap.live_hooks)
        .filter(|o| {
            !gitops::sync::annotations::sync_options(o)
                .iter()
                .any(|(k, v)| k == "Delete" && v.eq_ignore_ascii_case("false"))
        })
        .collect();
    for object in &remaining {
        if object.pointer("/metadata/deletionTimestamp").is_none() {
            d.actions.push(Action::Delete {
                live: (*object).clone(),
                propagation,
            });
        }
    }
    if remaining.is_empty() {
        d.actions.push(Action::RemoveFinalizer);
    }
}
