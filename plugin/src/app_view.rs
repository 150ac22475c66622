//! What `kubectl sluice app` prints, pure: the list table, the `get` view (sync, health, source,
//! conditions, the last operation and the resource tree with per-resource status), the history,
//! and when `app wait` is done.

use std::fmt::Write as _;

use crds::gitops::{ApplicationSet, ResourceStatus, StoredApplication};

use crate::app_tree::Node;

fn short(revision: &str) -> &str {
    &revision[..revision.len().min(7)]
}

fn sync_of(app: &StoredApplication) -> (&str, &str) {
    let sync = app.status.as_ref().and_then(|s| s.sync.as_ref());
    (
        sync.map_or("Unknown", |s| s.status.as_str()),
        sync.and_then(|s| s.revision.as_deref()).unwrap_or(""),
    )
}

fn health_of(app: &StoredApplication) -> (&str, &str) {
    let health = app.status.as_ref().and_then(|s| s.health.as_ref());
    (
        health.and_then(|h| h.status.as_deref()).unwrap_or("Unknown"),
        health.and_then(|h| h.message.as_deref()).unwrap_or(""),
    )
}

fn columns(rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..rows.first().map_or(0, Vec::len))
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        let _ = writeln!(out, "{}", cells.join("   ").trim_end());
    }
    out
}

/// The `app list` table, drawn as a tree: each ApplicationSet with the Applications it
/// generated, each parent Application with the Applications (and sets) it manages.
#[must_use]
pub fn list(apps: &[StoredApplication], sets: &[ApplicationSet], all_namespaces: bool) -> String {
    let mut rows = vec![];
    let mut header = vec!["NAME", "SYNC", "HEALTH", "REVISION", "PROJECT", "LAST SYNC"];
    if all_namespaces {
        header.insert(0, "NAMESPACE");
    }
    rows.push(header.into_iter().map(str::to_owned).collect::<Vec<_>>());
    for (node, prefix) in crate::app_tree::order(apps, sets) {
        let (namespace, mut row) = match node {
            Node::App(i) => {
                let app = &apps[i];
                let (sync, revision) = sync_of(app);
                let (health, _) = health_of(app);
                let op = app
                    .status
                    .as_ref()
                    .and_then(|s| s.operation_state.as_ref())
                    .map_or("-", |o| o.phase.as_str());
                let row = vec![
                    format!("{prefix}{}", app.metadata.name.clone().unwrap_or_default()),
                    sync.to_owned(),
                    health.to_owned(),
                    short(revision).to_owned(),
                    app.spec.project.clone().unwrap_or_else(|| "default".into()),
                    op.to_owned(),
                ];
                (app.metadata.namespace.clone(), row)
            }
            Node::Set(i) => {
                let set = &sets[i];
                let health = serde_json::to_value(set)
                    .ok()
                    .and_then(|v| gitops::health::assess(&v))
                    .map(|h| h.status.to_string())
                    .unwrap_or_default();
                let row = vec![
                    format!(
                        "{prefix}ApplicationSet/{}",
                        set.metadata.name.clone().unwrap_or_default()
                    ),
                    "-".into(),
                    health,
                    "-".into(),
                    "-".into(),
                    "-".into(),
                ];
                (set.metadata.namespace.clone(), row)
            }
        };
        if all_namespaces {
            row.insert(0, namespace.unwrap_or_default());
        }
        rows.push(row);
    }
    columns(&rows)
}

fn resource_row(r: &ResourceStatus) -> Vec<String> {
    let kind = if r.group.is_empty() {
        r.kind.clone()
    } else {
        format!("{}/{}", r.group, r.kind)
    };
    let mut status = r.status.clone().unwrap_or_default();
    if r.requires_pruning == Some(true) {
        status.push_str(" (requires pruning)");
    }
    let health = r.health.as_ref().and_then(|h| h.status.clone()).unwrap_or_default();
    let message = r.health.as_ref().and_then(|h| h.message.clone()).unwrap_or_default();
    vec![
        r.sync_wave.map_or_else(String::new, |w| w.to_string()),
        kind,
        r.namespace.clone(),
        r.name.clone(),
        status,
        health,
        message,
    ]
}

/// The `app get` view.
#[must_use]
pub fn get(app: &StoredApplication) -> String {
    let mut out = String::new();
    let name = app.metadata.name.clone().unwrap_or_default();
    let (sync, revision) = sync_of(app);
    let (health, health_message) = health_of(app);
    let _ = writeln!(
        out,
        "Name:        {}/{name}",
        app.metadata.namespace.clone().unwrap_or_default()
    );
    let _ = writeln!(out, "Project:     {}", app.spec.project.as_deref().unwrap_or("default"));
    if let Some(source) = app.spec.primary_source() {
        let _ = writeln!(
            out,
            "Source:      {} {} @ {}",
            source.repo_url,
            source.path.as_deref().unwrap_or("."),
            source.target_revision.as_deref().unwrap_or("HEAD")
        );
    }
    let destination = &app.spec.destination;
    let _ = writeln!(
        out,
        "Destination: {} namespace {}",
        destination
            .server
            .as_deref()
            .or(destination.name.as_deref())
            .unwrap_or("in-cluster"),
        destination.namespace.as_deref().unwrap_or("-")
    );
    let _ = writeln!(out, "Sync:        {sync} to {}", short(revision));
    if health_message.is_empty() {
        let _ = writeln!(out, "Health:      {health}");
    } else {
        let _ = writeln!(out, "Health:      {health} - {health_message}");
    }
    let status = app.status.clone().unwrap_or_default();
    for c in &status.conditions {
        let _ = writeln!(out, "Condition:   {}: {}", c.type_, c.message);
    }
    if let Some(op) = &status.operation_state {
        let revision = op.sync_result.as_ref().map_or("", |r| r.revision.as_str());
        let _ = writeln!(
            out,
            "Last sync:   {} to {} - {}",
            op.phase,
            short(revision),
            op.message.as_deref().unwrap_or_default()
        );
        if let Some(retries) = op.retry_count.filter(|r| *r > 0) {
            let _ = writeln!(out, "Retries:     {retries}");
        }
    }
    if !status.resources.is_empty() {
        out.push('\n');
        let mut rows = vec![
            ["WAVE", "KIND", "NAMESPACE", "NAME", "STATUS", "HEALTH", "MESSAGE"]
                .map(str::to_owned)
                .to_vec(),
        ];
        rows.extend(status.resources.iter().map(resource_row));
        out.push_str(&columns(&rows));
    }
    let hooks: Vec<_> = status
        .operation_state
        .iter()
        .flat_map(|o| o.sync_result.iter().flat_map(|r| &r.resources))
        .filter(|r| r.hook_type.is_some())
        .collect();
    if !hooks.is_empty() {
        out.push('\n');
        let mut rows = vec![["HOOK", "KIND", "NAME", "PHASE", "MESSAGE"].map(str::to_owned).to_vec()];
        for h in hooks {
            rows.push(vec![
                h.hook_type.clone().unwrap_or_default(),
                h.kind.clone(),
                h.name.clone(),
                h.hook_phase.clone().unwrap_or_default(),
                h.message.clone().unwrap_or_default(),
            ]);
        }
        out.push_str(&columns(&rows));
    }
    out
}

/// The `app history` table, oldest first as Argo CD prints it.
#[must_use]
pub fn history(app: &StoredApplication) -> String {
    let mut rows = vec![["ID", "DATE", "REVISION"].map(str::to_owned).to_vec()];
    for h in app.status.iter().flat_map(|s| &s.history) {
        rows.push(vec![
            h.id.to_string(),
            h.deployed_at.as_ref().map(|t| t.0.to_string()).unwrap_or_default(),
            h.revision.clone(),
        ]);
    }
    columns(&rows)
}

/// Where `app wait` stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Wait {
    /// What was asked for holds.
    Done,
    /// It cannot hold without a change: the Application is Degraded, or its sync failed.
    Failed(String),
    /// Not yet: why.
    Waiting(String),
}

/// Whether `app` is Healthy (`health`) and Synced with no operation running (`sync`); with
/// neither asked, both.
#[must_use]
pub fn wait(app: &StoredApplication, health: bool, sync: bool) -> Wait {
    let (health, sync) = if !health && !sync { (true, true) } else { (health, sync) };
    let (sync_status, _) = sync_of(app);
    let (health_status, message) = health_of(app);
    let op = app.status.as_ref().and_then(|s| s.operation_state.as_ref());
    let running = op.is_some_and(|o| o.phase == "Running") || app.operation.is_some();
    if health && health_status == "Degraded" && !running {
        return Wait::Failed(format!("application is Degraded: {message}"));
    }
    if sync && !running && op.is_some_and(|o| o.phase == "Failed" || o.phase == "Error") && sync_status != "Synced" {
        let why = op.and_then(|o| o.message.clone()).unwrap_or_default();
        return Wait::Failed(format!("the last sync failed: {why}"));
    }
    let healthy = !health || health_status == "Healthy";
    let synced = !sync || (sync_status == "Synced" && !running);
    if healthy && synced {
        Wait::Done
    } else {
        Wait::Waiting(format!(
            "sync {sync_status}, health {health_status}{}",
            if running { ", sync running" } else { "" }
        ))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn app(status: serde_json::Value) -> StoredApplication {
        serde_json::from_value(json!({
            "metadata": {"name": "guestbook", "namespace": "argocd"},
            "spec": {"source": {"repoURL": "git://h/r.git", "path": "gb", "targetRevision": "main"},
                     "destination": {"server": "https://kubernetes.default.svc", "namespace": "shop"}},
            "status": status,
        }))
        .unwrap_or_default()
    }

    #[test]
    fn views_of_an_application() {
        let a = app(json!({
            "sync": {"status": "OutOfSync", "revision": "0123456789abcdef"},
            "health": {"status": "Progressing", "message": "Waiting for rollout"},
            "resources": [{"group": "apps", "version": "v1", "kind": "Deployment", "namespace": "shop", "name": "web", "status": "OutOfSync", "health": {"status": "Progressing"}},
                          {"group": "", "version": "v1", "kind": "ConfigMap", "namespace": "shop", "name": "old", "status": "OutOfSync", "requiresPruning": true}],
            "operationState": {"phase": "Running", "message": "waiting for healthy state of Deployment/web", "syncResult": {"revision": "0123456789abcdef"}},
            "history": [{"id": 0, "revision": "fedcba9876543210", "deployedAt": "2026-12-01T10:00:00Z"}]
        }));
        let text = get(&a);
        assert!(text.contains("Sync:        OutOfSync to 0123456"), "{text}");
        assert!(
            text.contains("Health:      Progressing - Waiting for rollout"),
            "{text}"
        );
        assert!(
            text.contains("Last sync:   Running to 0123456 - waiting for healthy state of Deployment/web"),
            "{text}"
        );
        assert!(
            text.contains("apps/Deployment   shop        web    OutOfSync"),
            "{text}"
        );
        assert!(text.contains("OutOfSync (requires pruning)"), "{text}");
        let table = list(std::slice::from_ref(&a), &[], false);
        assert_eq!(
            table.lines().nth(1),
            Some("guestbook   OutOfSync   Progressing   0123456    default   Running")
        );
        assert!(
            history(&a).contains("0    2026-12-01T10:00:00Z   fedcba9876543210"),
            "{}",
            history(&a)
        );
        assert!(matches!(wait(&a, true, true), Wait::Waiting(_)));
    }

    #[test]
    fn wait_outcomes() {
        let done = app(
            json!({"sync": {"status": "Synced"}, "health": {"status": "Healthy"}, "operationState": {"phase": "Succeeded"}}),
        );
        assert_eq!(wait(&done, true, true), Wait::Done);
        let degraded =
            app(json!({"sync": {"status": "Synced"}, "health": {"status": "Degraded", "message": "aborted"}}));
        assert_eq!(
            wait(&degraded, true, false),
            Wait::Failed("application is Degraded: aborted".into())
        );
        assert_eq!(wait(&degraded, false, true), Wait::Done);
        let failed = app(
            json!({"sync": {"status": "OutOfSync"}, "health": {"status": "Healthy"}, "operationState": {"phase": "Failed", "message": "boom"}}),
        );
        assert_eq!(
            wait(&failed, false, true),
            Wait::Failed("the last sync failed: boom".into())
        );
    }
}
