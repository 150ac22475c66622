//! The parameters of every write Sluice makes (controller, analysis Jobs, plugin, demo): each
//! names the field manager `sluice`, so `managedFields` (and tools like Argo CD's diff) can tell
//! Sluice's fields from everyone else's.

use kube::core::params::{DeleteParams, PatchParams, PostParams};

/// The field manager of every write the controller makes.
pub const FIELD_MANAGER: &str = "sluice";

/// Parameters of a create.
#[must_use]
pub fn create() -> PostParams {
    PostParams {
        dry_run: false,
        field_manager: Some(FIELD_MANAGER.into()),
    }
}

/// Parameters of a merge or JSON patch.
#[must_use]
pub fn patch() -> PatchParams {
    PatchParams {
        field_manager: Some(FIELD_MANAGER.into()),
        ..PatchParams::default()
    }
}

/// Parameters of a server-side apply that takes over the fields it sets.
#[must_use]
pub fn apply() -> PatchParams {
    PatchParams::apply(FIELD_MANAGER).force()
}

/// Parameters of a server-side apply dry run (what the apply would store, nothing written).
#[must_use]
pub fn apply_dry_run() -> PatchParams {
    apply().dry_run()
}

/// Parameters of a delete (deletes carry no field manager; this is the one place they are built).
#[must_use]
pub fn delete() -> DeleteParams {
    DeleteParams::default()
}
