//! InvalidSpec (reference b10): the spec's own problems (the validation every tool shares), features
//! this controller does not carry out yet, and referenced objects that are missing. An invalid
//! Rollout gets an `InvalidSpec` condition and nothing else is done until it is fixed.

use crds::Rollout;
use crds::rollout::{RolloutAnalysis, RolloutCondition, RolloutPhase, RolloutStatus};
use crds::validation::Validate as _;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::status::set_condition;
use crate::rollout::labels::MANAGED_BY_ANNOTATION;
use crate::rollout::plan::{Plan, RolloutEvent};
use crate::rollout::snapshot::Snapshot;

/// Features of the Argo schema this controller refuses rather than silently ignores.
fn unsupported(rollout: &Rollout) -> Vec<String> {
    let mut found = Vec::new();
    let mut add = |path: &str| found.push(format!("{path}: not supported yet"));
    if rollout.spec.workload_ref.is_some() {
        add("spec.workloadRef");
    }
    let strategy = rollout.spec.strategy.clone().unwrap_or_default();
    if let Some(canary) = &strategy.canary {
        let base = "spec.strategy.canary";
        if canary.traffic_routing.is_some() {
            add(&format!("{base}.trafficRouting"));
        }
        if canary.ping_pong.is_some() {
            add(&format!("{base}.pingPong"));
        }
        if canary.anti_affinity.is_some() {
            add(&format!("{base}.antiAffinity"));
        }
        if canary.canary_metadata.is_some() {
            add(&format!("{base}.canaryMetadata"));
        }
        if canary.stable_metadata.is_some() {
            add(&format!("{base}.stableMetadata"));
        }
        for (i, step) in canary.steps.iter().enumerate() {
            let path = format!("{base}.steps[{i}]");
            if step.experiment.is_some() {
                add(&format!("{path}.experiment"));
            }
            if step.set_header_route.is_some() {
                add(&format!("{path}.setHeaderRoute"));
            }
            if step.set_mirror_route.is_some() {
                add(&format!("{path}.setMirrorRoute"));
            }
            if step.plugin.is_some() {
                add(&format!("{path}.plugin"));
            }
        }
    }
    if let Some(bg) = &strategy.blue_green {
        let base = "spec.strategy.blueGreen";
        if bg.anti_affinity.is_some() {
            add(&format!("{base}.antiAffinity"));
        }
        if bg.preview_metadata.is_some() {
            add(&format!("{base}.previewMetadata"));
        }
        if bg.active_metadata.is_some() {
            add(&format!("{base}.activeMetadata"));
        }
    }
    found
}

/// Every analysis a Rollout may start, with the path of its field.
fn analyses(rollout: &Rollout) -> Vec<(String, RolloutAnalysis)> {
    let strategy = rollout.spec.strategy.clone().unwrap_or_default();
    let mut all = Vec::new();
    if let Some(canary) = strategy.canary {
        if let Some(bg) = canary.analysis {
            all.push(("spec.strategy.canary.analysis".to_string(), bg.analysis));
        }
        for (i, step) in canary.steps.into_iter().enumerate() {
            if let Some(a) = step.analysis {
                all.push((format!("spec.strategy.canary.steps[{i}].analysis"), a));
            }
        }
    }
    if let Some(bg) = strategy.blue_green {
        if let Some(a) = bg.pre_promotion_analysis {
            all.push(("spec.strategy.blueGreen.prePromotionAnalysis".to_string(), a));
        }
        if let Some(a) = bg.post_promotion_analysis {
            all.push(("spec.strategy.blueGreen.postPromotionAnalysis".to_string(), a));
        }
    }
    all
}

/// The Services a Rollout names, with the path of their field.
pub fn service_refs(rollout: &Rollout) -> Vec<(String, String)> {
    let strategy = rollout.spec.strategy.clone().unwrap_or_default();
    let mut refs = Vec::new();
    if let Some(c) = strategy.canary {
        refs.extend(
            c.stable_service
                .map(|s| ("spec.strategy.canary.stableService".to_string(), s)),
        );
        refs.extend(
            c.canary_service
                .map(|s| ("spec.strategy.canary.canaryService".to_string(), s)),
        );
    }
    if let Some(bg) = strategy.blue_green {
        refs.extend(
            bg.active_service
                .map(|s| ("spec.strategy.blueGreen.activeService".to_string(), s)),
        );
        refs.extend(
            bg.preview_service
                .map(|s| ("spec.strategy.blueGreen.previewService".to_string(), s)),
        );
    }
    refs
}

/// Referenced Services and templates that are missing, and Services another Rollout manages.
fn references(snap: &Snapshot) -> Vec<String> {
    let rollout = &snap.rollout;
    let name = rollout.metadata.name.clone().unwrap_or_default();
    let mut found = Vec::new();
    for (path, service) in service_refs(rollout) {
        match snap.services.get(&service) {
            None => found.push(format!("{path}: Service {service:?} not found")),
            Some(svc) => {
                let owner = svc
                    .metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get(MANAGED_BY_ANNOTATION));
                if let Some(owner) = owner.filter(|o| **o != name) {
                    found.push(format!("{path}: Service {service:?} is managed by Rollout {owner:?}"));
                }
            }
        }
    }
    for (path, analysis) in analyses(rollout) {
        for (i, template) in analysis.templates.iter().enumerate() {
            let cluster = template.cluster_scope.unwrap_or(false);
            if !snap.templates.contains_key(&(cluster, template.template_name.clone())) {
                let kind = if cluster {
                    "ClusterAnalysisTemplate"
                } else {
                    "AnalysisTemplate"
                };
                found.push(format!(
                    "{path}.templates[{i}].templateName: {kind} {:?} not found",
                    template.template_name
                ));
            }
        }
    }
    found
}

/// Every problem as one message, or `None` when the Rollout can be reconciled.
#[must_use]
pub fn problems(snap: &Snapshot) -> Option<String> {
    let mut all: Vec<String> = snap.rollout.validate().iter().map(ToString::to_string).collect();
    all.extend(unsupported(&snap.rollout));
    if all.is_empty() {
        all.extend(references(snap));
    }
    if all.is_empty() {
        return None;
    }
    let name = snap.rollout.metadata.name.clone().unwrap_or_default();
    Some(format!("The Rollout {name:?} is invalid: {}", all.join("; ")))
}

/// The plan for an invalid Rollout: the stored status with the InvalidSpec condition, Degraded.
#[must_use]
pub fn plan(rollout: &Rollout, old: &RolloutStatus, now: &Time, message: &str) -> Plan {
    let mut status = old.clone();
    status.observed_generation = rollout.metadata.generation.map(|g| g.to_string());
    let condition = RolloutCondition {
        type_: "InvalidSpec".into(),
        status: "True".into(),
        reason: Some("InvalidSpec".into()),
        message: Some(message.to_string()),
        ..RolloutCondition::default()
    };
    let changed = set_condition(&mut status.conditions, condition, now);
    status.phase = Some(RolloutPhase::Degraded);
    status.message = Some(format!("InvalidSpec: {message}"));
    let mut plan = Plan {
        status,
        ..Plan::default()
    };
    if changed {
        plan.events.push(RolloutEvent::warning("InvalidSpec", message));
    }
    plan
}
