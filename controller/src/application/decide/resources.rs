//! The comparison part of the status: each resource's sync status and health, the Application's
//! sync status (OutOfSync when a resource differs, is missing, or is extra) and its health (the
//! worst of its resources', Argo CD's `setApplicationHealth`).

use crds::gitops::{ApplicationStatus, HealthStatus as AppHealth, ResourceStatus, SyncStatus};
use gitops::health::{self, HealthStatus};
use serde_json::Value;

use super::super::compare::Compared;
use super::super::snapshot::{Observed, Resource, Snapshot};

/// Group and version of an object's `apiVersion`.
#[must_use]
pub fn group_version(object: &Value) -> (String, String) {
    let api_version = object["apiVersion"].as_str().unwrap_or_default();
    match api_version.rsplit_once('/') {
        Some((g, v)) => (g.to_owned(), v.to_owned()),
        None => (String::new(), api_version.to_owned()),
    }
}

fn text<'a>(object: &'a Value, pointer: &str) -> &'a str {
    object.pointer(pointer).and_then(Value::as_str).unwrap_or_default()
}

/// The health of one resource (`None`: no health check, counts as healthy).
#[must_use]
pub fn resource_health(r: &Resource) -> Option<health::Health> {
    match &r.live {
        None => Some(health::Health::new(HealthStatus::Missing, "")),
        Some(live) if health::ignored(live) => None,
        Some(live) => health::judge(live),
    }
}

fn entry(object: &Value, status: &str, health: Option<&health::Health>, prune: bool) -> ResourceStatus {
    let (group, version) = group_version(object);
    ResourceStatus {
        group,
        version,
        kind: text(object, "/kind").to_owned(),
        namespace: text(object, "/metadata/namespace").to_owned(),
        name: text(object, "/metadata/name").to_owned(),
        status: Some(status.to_owned()),
        health: health.map(|h| AppHealth {
            status: Some(h.status.as_str().to_owned()),
            message: Some(h.message.clone()).filter(|m| !m.is_empty()),
        }),
        requires_pruning: prune.then_some(true),
        sync_wave: Some(gitops::sync::annotations::wave(object)).filter(|w| *w != 0),
    }
}

/// Fills `status.resources`, `status.sync` and `status.health` from what was observed.
pub fn fill(snap: &Snapshot, observed: &Observed, status: &mut ApplicationStatus) {
    let mut resources = Vec::new();
    let mut healths = Vec::new();
    let mut worst_message = String::new();
    let mut synced = true;
    for r in &observed.resources {
        let h = resource_health(r);
        if let Some(h) = &h {
            if healths.iter().all(|w: &HealthStatus| h.status > *w) {
                worst_message = h.message.clone();
            }
            healths.push(h.status);
        }
        synced &= r.compared == Compared::Synced;
        resources.push(entry(&r.desired, r.compared.sync_status(), h.as_ref(), false));
    }
    for extra in &snap.extra {
        synced = false;
        resources.push(entry(extra, "OutOfSync", health::judge(extra).as_ref(), true));
    }
    resources
        .sort_by(|a, b| (&a.group, &a.kind, &a.namespace, &a.name).cmp(&(&b.group, &b.kind, &b.namespace, &b.name)));
    status.resources = resources;
    status.sync = Some(SyncStatus {
        status: if synced { "Synced" } else { "OutOfSync" }.to_owned(),
        revision: Some(observed.revision.clone()),
    });
    let app_health = health::worst(healths);
    status.health = Some(AppHealth {
        status: Some(app_health.as_str().to_owned()),
        message: Some(worst_message).filter(|m| !m.is_empty() && app_health != HealthStatus::Healthy),
    });
    status.source_type = Some(observed.source_type.to_owned());
}
