//! From the objects of a Rollout to its [`View`]: the header, then the tree (revisions →
//! ReplicaSets → pods, and AnalysisRuns with their metrics), each built by a small function.
//! Keys, revisions, weights and phases come from the vocabulary in `crds`, as the controller reads
//! them.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use crds::analysis::AnalysisPhase;
use crds::keys::{pod_template_hash, revision, scale_down_deadline};
use crds::{AnalysisRun, Rollout};
use jiff::Timestamp;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::status::{analysis_icon, replicaset_badge};
use super::{Badge, Header, Icon, Image, Node, Replicas, StepProgress, View, rollout_status};

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

/// An object's age as kubectl prints it (apimachinery's `duration.HumanDuration`).
#[must_use]
pub fn age(meta: &ObjectMeta, now: Timestamp) -> String {
    let Some(created) = meta.creation_timestamp.as_ref() else {
        return String::new();
    };
    super::age::human_duration(now.duration_since(created.0).as_secs())
}

fn available(rs: &ReplicaSet) -> i32 {
    rs.status.as_ref().and_then(|s| s.available_replicas).unwrap_or(0)
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
    let Some(h) = pod_template_hash(&rs.metadata) else {
        return Vec::new();
    };
    let mut roles = Vec::new();
    let stable = status.stable_rs.as_deref() == Some(h);
    if stable {
        roles.push("stable");
    }
    if rollout.canary().is_some() && status.current_pod_hash.as_deref() == Some(h) && !stable {
        roles.push("canary");
    }
    if let Some(bg) = &status.blue_green {
        let active = bg.active_selector.as_deref() == Some(h);
        if active {
            roles.push("active");
        }
        if bg.preview_selector.as_deref() == Some(h) && !active {
            roles.push("preview");
        }
    }
    roles
}

/// The set weight, and the actual one: the router's weight with traffic routing, else the share
/// of available pods that run the new version.
fn weights(inputs: &Inputs<'_>) -> (i32, i32) {
    let rollout = inputs.rollout;
    let routed = rollout
        .status
        .as_ref()
        .and_then(|s| s.canary.as_ref()?.weights.as_ref());
    if let Some(weights) = routed {
        return (rollout.current_set_weight(), weights.canary.weight);
    }
    let current = rollout.status.as_ref().and_then(|s| s.current_pod_hash.as_deref());
    let total: i32 = inputs.replicasets.iter().map(available).sum();
    let new: i32 = inputs
        .replicasets
        .iter()
        .filter(|rs| pod_template_hash(&rs.metadata) == current)
        .map(available)
        .sum();
    let actual = if total > 0 { new * 100 / total } else { 0 };
    (rollout.current_set_weight(), actual)
}

/// Images with their roles, newest revision first; scaled-down non-stable sets are left out.
fn images(rollout: &Rollout, replicasets: &[&ReplicaSet]) -> Vec<Image> {
    let mut images: Vec<Image> = Vec::new();
    for rs in replicasets {
        let roles = roles(rollout, rs);
        if roles.is_empty() || rs.spec.replicas == Some(0) && !roles.contains(&"stable") {
            continue;
        }
        let image = image(rs);
        match images.iter_mut().find(|i| i.image == image) {
            Some(existing) => existing.roles.extend(roles),
            None => images.push(Image { image, roles }),
        }
    }
    images
}

/// The traffic router and whether it carries the weight, e.g. `HTTPRoute shop/web (verified)`.
fn router(rollout: &Rollout) -> Option<String> {
    let routing = rollout.canary()?.traffic_routing.as_ref()?;
    let namespace = rollout.metadata.namespace.clone().unwrap_or_default();
    let mut routes: Vec<String> = match routing.gateway_api() {
        Some(Ok(config)) => {
            let ns = config.namespace.clone().unwrap_or_else(|| namespace.clone());
            config
                .routes()
                .into_iter()
                .map(|(kind, name)| format!("{} {ns}/{name}", kind.kind()))
                .collect()
        }
        Some(Err(_)) => vec!["unreadable Gateway API configuration".to_owned()],
        None => Vec::new(),
    };
    if let Some(istio) = &routing.istio {
        routes.extend(istio.virtual_service.iter().chain(&istio.virtual_services).map(|vs| {
            let (name, ns) = vs
                .name
                .split_once('.')
                .unwrap_or((vs.name.as_str(), namespace.as_str()));
            format!("VirtualService {ns}/{name}")
        }));
    }
    let name = rollout.metadata.name.clone().unwrap_or_default();
    if let Some(nginx) = &routing.nginx {
        routes.extend(nginx.stable_ingresses().into_iter().map(|stable| {
            let canary = crds::rollout::NginxTrafficRouting::canary_ingress_name(&name, stable);
            format!("Ingress {namespace}/{canary} (canary of {stable})")
        }));
    }
    if let Some(smi) = &routing.smi {
        routes.push(format!("TrafficSplit {namespace}/{}", smi.split_name(&name)));
    }
    let verified = rollout
        .status
        .as_ref()
        .and_then(|s| s.canary.as_ref()?.weights.as_ref()?.verified);
    let state = match verified {
        Some(true) => " (verified)",
        Some(false) => " (setting)",
        None => "",
    };
    Some(format!("{}{state}", routes.join(", ")))
}

fn header(inputs: &Inputs<'_>, replicasets: &[&ReplicaSet]) -> Header {
    let rollout = inputs.rollout;
    let status = rollout.status.clone().unwrap_or_default();
    let canary = rollout.canary().is_some();
    let (set_weight, actual_weight) = weights(inputs);
    let step = canary.then(|| {
        let count = rollout.step_count();
        StepProgress {
            index: status.current_step_index.unwrap_or(count),
            count,
        }
    });
    Header {
        name: rollout.metadata.name.clone().unwrap_or_default(),
        namespace: rollout.metadata.namespace.clone().unwrap_or_default(),
        status: rollout_status(rollout),
        strategy: if canary { "Canary" } else { "BlueGreen" },
        step,
        set_weight: canary.then_some(set_weight),
        router: router(rollout),
        actual_weight: canary.then_some(actual_weight),
        images: images(rollout, replicasets),
        replicas: Replicas {
            desired: rollout.spec.replicas.unwrap_or(1),
            current: status.replicas.unwrap_or(0),
            updated: status.updated_replicas.unwrap_or(0),
            ready: status.ready_replicas.unwrap_or(0),
            available: status.available_replicas.unwrap_or(0),
        },
    }
}

fn pod_node(pod: &Pod, now: Timestamp) -> Node {
    let status = pod.status.clone().unwrap_or_default();
    let containers = status.container_statuses.unwrap_or_default();
    let total = pod.spec.as_ref().map_or(containers.len(), |s| s.containers.len());
    let ready = containers.iter().filter(|c| c.ready).count();
    let restarts: i32 = containers.iter().map(|c| c.restart_count).sum();
    let waiting = containers
        .iter()
        .find_map(|c| c.state.as_ref()?.waiting.as_ref()?.reason.clone());
    let phase = status.phase.unwrap_or_else(|| "Pending".into());
    let (icon, text) = if pod.metadata.deletion_timestamp.is_some() {
        (Icon::Progressing, "Terminating".to_string())
    } else if let Some(reason) = waiting.filter(|r| r != "ContainerCreating") {
        (Icon::Bad, reason)
    } else {
        let icon = match phase.as_str() {
            "Running" if ready == total => Icon::Ok,
            "Succeeded" => Icon::Ok,
            "Failed" => Icon::Bad,
            _ => Icon::Progressing,
        };
        (icon, phase)
    };
    let mut info = format!("ready:{ready}/{total}");
    if restarts > 0 {
        info.push_str(&format!(",restarts:{restarts}"));
    }
    Node {
        depth: 3,
        last: false,
        glyph: "□",
        name: pod.metadata.name.clone().unwrap_or_default(),
        kind: "Pod",
        status: Some(Badge { icon, text }),
        age: age(&pod.metadata, now),
        info,
    }
}

fn replicaset_nodes(inputs: &Inputs<'_>, rs: &ReplicaSet, out: &mut Vec<Node>) {
    let mut info: Vec<String> = roles(inputs.rollout, rs).iter().map(|r| (*r).to_string()).collect();
    if let Some(deadline) = scale_down_deadline(&rs.metadata).filter(|d| *d > inputs.now) {
        info.push(format!("delay:{}s", deadline.duration_since(inputs.now).as_secs()));
    }
    out.push(Node {
        depth: 2,
        last: false,
        glyph: "⧉",
        name: rs.metadata.name.clone().unwrap_or_default(),
        kind: "ReplicaSet",
        status: Some(replicaset_badge(rs.spec.replicas.unwrap_or(1), available(rs))),
        age: age(&rs.metadata, inputs.now),
        info: info.join(","),
    });
    let uid = rs.metadata.uid.as_ref();
    let mut pods: Vec<&Pod> = inputs
        .pods
        .iter()
        .filter(|p| {
            p.metadata
                .owner_references
                .iter()
                .flatten()
                .any(|o| Some(&o.uid) == uid)
        })
        .collect();
    pods.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    out.extend(pods.into_iter().map(|pod| pod_node(pod, inputs.now)));
}

fn run_nodes(run: &AnalysisRun, now: Timestamp, out: &mut Vec<Node>) {
    let status = run.status.clone().unwrap_or_default();
    let ok: i32 = status.metric_results.iter().map(|m| m.successful).sum();
    let bad: i32 = status.metric_results.iter().map(|m| m.failed + m.error).sum();
    let mut info = Vec::new();
    if ok > 0 {
        info.push(format!("✔ {ok}"));
    }
    if bad > 0 {
        info.push(format!("✖ {bad}"));
    }
    out.push(Node {
        depth: 2,
        last: false,
        glyph: "α",
        name: run.metadata.name.clone().unwrap_or_default(),
        kind: "AnalysisRun",
        status: Some(analysis_icon(status.phase)),
        age: age(&run.metadata, now),
        info: info.join(","),
    });
    for metric in &status.metric_results {
        let value = metric
            .measurements
            .last()
            .and_then(|m| m.value.clone())
            .unwrap_or_default();
        let info = match metric.message.clone() {
            Some(message) if metric.phase == Some(AnalysisPhase::Error) => message,
            _ if value.is_empty() => format!("{} measured", metric.count),
            _ => format!("value: {value}"),
        };
        out.push(Node {
            depth: 3,
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

/// The ReplicaSets and runs of each revision, newest first.
type Revisions<'a> = BTreeMap<Reverse<i64>, (Vec<&'a ReplicaSet>, Vec<&'a AnalysisRun>)>;

fn revisions<'a>(replicasets: &[&'a ReplicaSet], runs: &'a [AnalysisRun]) -> Revisions<'a> {
    let mut revisions = Revisions::new();
    for rs in replicasets {
        revisions.entry(Reverse(revision(&rs.metadata))).or_default().0.push(rs);
    }
    for run in runs {
        revisions
            .entry(Reverse(revision(&run.metadata)))
            .or_default()
            .1
            .push(run);
    }
    for (_, runs) in revisions.values_mut() {
        runs.sort_by(|a, b| a.metadata.creation_timestamp.cmp(&b.metadata.creation_timestamp));
    }
    revisions
}

/// Builds the view of a Rollout.
#[must_use]
pub fn build(inputs: &Inputs<'_>) -> View {
    let rollout = inputs.rollout;
    let mut replicasets: Vec<&ReplicaSet> = inputs.replicasets.iter().collect();
    replicasets.sort_by_key(|rs| Reverse(revision(&rs.metadata)));
    let header = header(inputs, &replicasets);
    let mut tree = vec![Node {
        depth: 0,
        last: true,
        glyph: "⟳",
        name: header.name.clone(),
        kind: "Rollout",
        status: Some(header.status.badge()),
        age: age(&rollout.metadata, inputs.now),
        info: String::new(),
    }];
    for (Reverse(rev), (sets, runs)) in revisions(&replicasets, inputs.runs) {
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
            replicaset_nodes(inputs, rs, &mut tree);
        }
        for run in runs {
            run_nodes(run, inputs.now, &mut tree);
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
