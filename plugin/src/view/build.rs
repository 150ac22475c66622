//! From the objects of a Rollout to its [`View`].

use std::collections::BTreeMap;

use crds::analysis::AnalysisPhase;
use crds::{AnalysisRun, Rollout};
use jiff::Timestamp;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::status::analysis_icon;
use super::{Header, Icon, Node, View, rollout_status};

const HASH_LABEL: &str = "rollouts-pod-template-hash";
const REVISION: &str = "rollout.argoproj.io/revision";
const SCALE_DOWN_DEADLINE: &str = "scale-down-deadline";

/// The objects of one Rollout, and the time to show ages against.
#[derive(Clone, Copy, Debug)]
pub struct Inputs<'a> {
    /// The Rollout.
    pub rollout: &'a Rollout,
    /// Its ReplicaSets.
    pub replicasets: &'a [ReplicaSet],
    /// Its pods.
    pub pods: &'a [Pod],
    /// Its AnalysisRuns.
    pub runs: &'a [AnalysisRun],
    /// Now.
    pub now: Timestamp,
}

/// A duration as kubectl prints ages: `45s`, `3m12s`, `5h`, `2d`.
#[must_use]
pub fn age(meta: &ObjectMeta, now: Timestamp) -> String {
    let Some(created) = meta.creation_timestamp.as_ref() else {
        return String::new();
    };
    let secs = now.duration_since(created.0).as_secs().max(0);
    match secs {
        0..120 => format!("{secs}s"),
        120..600 => format!("{}m{}s", secs / 60, secs % 60),
        600..10_800 => format!("{}m", secs / 60),
        10_800..172_800 => format!("{}h", secs / 3600),
        _ => format!("{}d", secs / 86_400),
    }
}

fn revision(meta: &ObjectMeta) -> i64 {
    meta.annotations
        .as_ref()
        .and_then(|a| a.get(REVISION))
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

fn hash(meta: &ObjectMeta) -> Option<&str> {
    meta.labels.as_ref()?.get(HASH_LABEL).map(String::as_str)
}

fn image(rs: &ReplicaSet) -> String {
    rs.spec
        .template
        .as_ref()
        .and_then(|t| t.spec.as_ref())
        .map(|s| {
            s.containers
                .iter()
                .filter_map(|c| c.image.clone())
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

/// The roles a ReplicaSet plays: stable, canary, active, preview.
fn roles(rollout: &Rollout, rs: &ReplicaSet) -> Vec<&'static str> {
    let status = rollout.status.clone().unwrap_or_default();
    let Some(h) = hash(&rs.metadata) else { return Vec::new() };
    let mut roles = Vec::new();
    if status.stable_rs.as_deref() == Some(h) {
        roles.push("stable");
    }
    let canary = rollout.spec.strategy.as_ref().is_some_and(|s| s.canary.is_some());
    if canary && status.current_pod_hash.as_deref() == Some(h) && status.stable_rs.as_deref() != Some(h) {
        roles.push("canary");
    }
    if let Some(bg) = &status.blue_green {
        if bg.active_selector.as_deref() == Some(h) {
            roles.push("active");
        }
        if bg.preview_selector.as_deref() == Some(h) && bg.active_selector.as_deref() != Some(h) {
            roles.push("preview");
        }
    }
    roles
}

fn replicaset_status(rs: &ReplicaSet) -> (Icon, String) {
    let spec = rs.spec.replicas.unwrap_or(1);
    let available = rs.status.as_ref().and_then(|s| s.available_replicas).unwrap_or(0);
    if spec == 0 {
        (Icon::ScaledDown, "ScaledDown".into())
    } else if available >= spec {
        (Icon::Ok, "Healthy".into())
    } else {
        (Icon::Progressing, "Progressing".into())
    }
}

fn pod_status(pod: &Pod) -> ((Icon, String), String) {
    let status = pod.status.clone().unwrap_or_default();
    let containers = status.container_statuses.unwrap_or_default();
    let total = pod.spec.as_ref().map_or(containers.len(), |s| s.containers.len());
    let ready = containers.iter().filter(|c| c.ready).count();
    let restarts: i32 = containers.iter().map(|c| c.restart_count).sum();
    let waiting = containers
        .iter()
        .find_map(|c| c.state.as_ref()?.waiting.as_ref()?.reason.clone());
    let phase = status.phase.unwrap_or_else(|| "Pending".into());
    let shown = if pod.metadata.deletion_timestamp.is_some() {
        (Icon::Progressing, "Terminating".to_string())
    } else if let Some(reason) = waiting.filter(|r| r != "ContainerCreating") {
        (Icon::Bad, reason)
    } else {
        match phase.as_str() {
            "Running" if ready == total => (Icon::Ok, phase),
            "Running" => (Icon::Progressing, phase),
            "Succeeded" => (Icon::Ok, phase),
            "Failed" => (Icon::Bad, phase),
            _ => (Icon::Progressing, phase),
        }
    };
    let mut info = format!("ready:{ready}/{total}");
    if restarts > 0 {
        info.push_str(&format!(",restarts:{restarts}"));
    }
    (shown, info)
}

fn run_nodes(run: &AnalysisRun, depth: usize, now: Timestamp, out: &mut Vec<Node>) {
    let status = run.status.clone().unwrap_or_default();
    let (mut ok, mut bad) = (0, 0);
    for m in &status.metric_results {
        ok += m.successful;
        bad += m.failed + m.error;
    }
    let mut info = Vec::new();
    if ok > 0 {
        info.push(format!("✔ {ok}"));
    }
    if bad > 0 {
        info.push(format!("✖ {bad}"));
    }
    out.push(Node {
        depth,
        last: false,
        glyph: "α",
        name: run.metadata.name.clone().unwrap_or_default(),
        kind: "AnalysisRun",
        status: Some(analysis_icon(status.phase)),
        age: age(&run.metadata, now),
        info: info.join(","),
    });
    for metric in &status.metric_results {
        let last = metric.measurements.last();
        let value = last.and_then(|m| m.value.clone()).unwrap_or_default();
        let mut info = if value.is_empty() {
            format!("{} measured", metric.count)
        } else {
            format!("value: {value}")
        };
        if let Some(message) = metric
            .message
            .clone()
            .filter(|_| metric.phase == Some(AnalysisPhase::Error))
        {
            info = message;
        }
        out.push(Node {
            depth: depth + 1,
            last: false,
            glyph: "μ",
            name: metric.name.clone(),
            kind: "Metric",
            status: Some(analysis_icon(metric.phase)),
            age: String::new(),
            info,
        });
    }
}

/// Builds the view of a Rollout.
#[must_use]
pub fn build(inputs: &Inputs<'_>) -> View {
    let rollout = inputs.rollout;
    let status = rollout.status.clone().unwrap_or_default();
    let canary = rollout.spec.strategy.as_ref().and_then(|s| s.canary.clone());
    let desired = rollout.spec.replicas.unwrap_or(1);
    let mut replicasets: Vec<&ReplicaSet> = inputs.replicasets.iter().collect();
    replicasets.sort_by_key(|rs| std::cmp::Reverse(revision(&rs.metadata)));
    let (step, set_weight, actual_weight) = match &canary {
        Some(c) => {
            let count = i32::try_from(c.steps.len()).unwrap_or(i32::MAX);
            let index = status.current_step_index.unwrap_or(count);
            let upto = usize::try_from(index.min(count)).unwrap_or(0);
            let weight = if index >= count {
                100
            } else {
                c.steps[..=upto.min(c.steps.len().saturating_sub(1))]
                    .iter()
                    .rev()
                    .find_map(|s| s.set_weight)
                    .unwrap_or(0)
            };
            let weight = if status.abort == Some(true) { 0 } else { weight };
            let available: i32 = inputs
                .replicasets
                .iter()
                .map(|rs| rs.status.as_ref().and_then(|s| s.available_replicas).unwrap_or(0))
                .sum();
            let new_available: i32 = inputs
                .replicasets
                .iter()
                .filter(|rs| hash(&rs.metadata) == status.current_pod_hash.as_deref())
                .map(|rs| rs.status.as_ref().and_then(|s| s.available_replicas).unwrap_or(0))
                .sum();
            let actual = if available > 0 {
                new_available * 100 / available
            } else {
                0
            };
            (Some((index, count)), Some(weight), Some(actual))
        }
        None => (None, None, None),
    };
    let mut images: Vec<(String, Vec<&'static str>)> = Vec::new();
    for rs in &replicasets {
        let roles = roles(rollout, rs);
        if roles.is_empty() || rs.spec.replicas == Some(0) && !roles.contains(&"stable") {
            continue;
        }
        let image = image(rs);
        match images.iter_mut().find(|(i, _)| *i == image) {
            Some((_, r)) => r.extend(roles),
            None => images.push((image, roles)),
        }
    }
    let header = Header {
        name: rollout.metadata.name.clone().unwrap_or_default(),
        namespace: rollout.metadata.namespace.clone().unwrap_or_default(),
        status: rollout_status(rollout),
        strategy: if canary.is_some() { "Canary" } else { "BlueGreen" },
        step,
        set_weight,
        actual_weight,
        images,
        replicas: [
            desired,
            status.replicas.unwrap_or(0),
            status.updated_replicas.unwrap_or(0),
            status.ready_replicas.unwrap_or(0),
            status.available_replicas.unwrap_or(0),
        ],
    };
    let (icon, phase, _) = rollout_status(rollout);
    let mut tree = vec![Node {
        depth: 0,
        last: true,
        glyph: "⟳",
        name: header.name.clone(),
        kind: "Rollout",
        status: Some((icon, phase)),
        age: age(&rollout.metadata, inputs.now),
        info: String::new(),
    }];
    let mut revisions: BTreeMap<std::cmp::Reverse<i64>, (Vec<&ReplicaSet>, Vec<&AnalysisRun>)> = BTreeMap::new();
    for rs in &replicasets {
        revisions
            .entry(std::cmp::Reverse(revision(&rs.metadata)))
            .or_default()
            .0
            .push(rs);
    }
    for run in inputs.runs {
        revisions
            .entry(std::cmp::Reverse(revision(&run.metadata)))
            .or_default()
            .1
            .push(run);
    }
    for (std::cmp::Reverse(rev), (sets, runs)) in &revisions {
        tree.push(Node {
            depth: 1,
            last: false,
            glyph: "#",
            name: format!("revision:{rev}"),
            kind: "",
            status: None,
            age: String::new(),
            info: String::new(),
        });
        for rs in sets {
            let mut info: Vec<String> = roles(rollout, rs).iter().map(|r| (*r).to_string()).collect();
            if let Some(deadline) = rs
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(SCALE_DOWN_DEADLINE))
                .and_then(|d| d.parse::<Timestamp>().ok())
                .filter(|d| *d > inputs.now)
            {
                info.push(format!("delay:{}s", deadline.duration_since(inputs.now).as_secs()));
            }
            tree.push(Node {
                depth: 2,
                last: false,
                glyph: "⧉",
                name: rs.metadata.name.clone().unwrap_or_default(),
                kind: "ReplicaSet",
                status: Some(replicaset_status(rs)),
                age: age(&rs.metadata, inputs.now),
                info: info.join(","),
            });
            let uid = rs.metadata.uid.clone();
            let mut pods: Vec<&Pod> = inputs
                .pods
                .iter()
                .filter(|p| {
                    p.metadata
                        .owner_references
                        .iter()
                        .flatten()
                        .any(|o| Some(&o.uid) == uid.as_ref())
                })
                .collect();
            pods.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
            for pod in pods {
                let (status, info) = pod_status(pod);
                tree.push(Node {
                    depth: 3,
                    last: false,
                    glyph: "□",
                    name: pod.metadata.name.clone().unwrap_or_default(),
                    kind: "Pod",
                    status: Some(status),
                    age: age(&pod.metadata, inputs.now),
                    info,
                });
            }
        }
        let mut runs = runs.clone();
        runs.sort_by(|a, b| a.metadata.creation_timestamp.cmp(&b.metadata.creation_timestamp));
        for run in runs {
            run_nodes(run, 2, inputs.now, &mut tree);
        }
    }
    mark_last(&mut tree);
    View { header, tree }
}

/// Marks each node that is the last child of its parent.
fn mark_last(tree: &mut [Node]) {
    for i in 0..tree.len() {
        let depth = tree[i].depth;
        let next_sibling_or_up = tree[i + 1..].iter().find(|n| n.depth <= depth);
        tree[i].last = next_sibling_or_up.is_none_or(|n| n.depth < depth);
    }
}
