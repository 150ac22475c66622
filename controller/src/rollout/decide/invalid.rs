//! InvalidSpec (Argo's `getRolloutValidationErrors` and `validation.ValidateRollout`): the spec's own problems (the validation every tool shares), features
//! this controller does not carry out yet, and referenced objects that are missing. An invalid
//! Rollout gets an `InvalidSpec` condition and nothing else is done until it is fixed.

use crds::Rollout;
use crds::rollout::conditions::{INVALID_SPEC, condition, set_condition};
use crds::rollout::{AnalysisAt, RolloutPhase, RolloutStatus, ServiceRef, TemplateRef};
use crds::validation::Validate as _;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::rollout::plan::{Plan, RolloutEvent};
use crate::rollout::snapshot::Snapshot;
use crds::keys::MANAGED_BY_ANNOTATION;

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
            // Header and mirror routes are served by Istio and the Gateway API.
            let routing = canary.traffic_routing.as_ref();
            let served = routing.is_some_and(|r| r.istio.is_some() || r.gateway_api().is_some());
            for (set, name) in [
                (step.set_header_route.is_some(), "setHeaderRoute"),
                (step.set_mirror_route.is_some(), "setMirrorRoute"),
            ] {
                if set && !served {
                    add(&format!(
                        "{path}.{name} (without trafficRouting.istio or the Gateway API)"
                    ));
                }
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
    if let Err(problems) = crate::rollout::traffic::targets(rollout) {
        found.extend(problems);
    }
    found
}

/// Router objects that are missing or cannot carry the split.
fn routes(snap: &Snapshot) -> Vec<String> {
    use crate::rollout::traffic::{self, RouteError, Split};
    let Some(canary) = snap.rollout.canary() else {
        return Vec::new();
    };
    // Empty with Istio's subset-level splitting (validation requires them otherwise).
    let canary_service = canary.canary_service.as_deref().unwrap_or_default();
    let stable_service = canary.stable_service.as_deref().unwrap_or_default();
    let split = Split {
        canary_service,
        stable_service,
        canary_weight: 0,
        max_weight: 100,
        pods: crate::rollout::traffic::PodHashes::default(),
        managed: &[],
    };
    let path = "spec.strategy.canary.trafficRouting";
    traffic::targets(&snap.rollout)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|target| {
            let error: RouteError = traffic::write(&target, &snap.rollout, &snap.routes, &split).err()?;
            Some(format!("{path}: {error}"))
        })
        .collect()
}

/// Referenced Services and templates that are missing, and Services another Rollout manages.
fn references(snap: &Snapshot) -> Vec<String> {
    let rollout = &snap.rollout;
    let name = rollout.metadata.name.clone().unwrap_or_default();
    let mut found = Vec::new();
    for ServiceRef { path, name: service } in rollout.service_refs() {
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
    for AnalysisAt { path, analysis } in rollout.analyses() {
        for (i, template) in analysis.templates.iter().enumerate() {
            let reference = TemplateRef::from(template);
            if !snap.templates.contains_key(&reference) {
                found.push(format!(
                    "{path}.templates[{i}].templateName: {} {:?} not found",
                    reference.kind(),
                    reference.name
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
        all.extend(routes(snap));
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
    let changed = set_condition(
        &mut status.conditions,
        condition(INVALID_SPEC, true, INVALID_SPEC, message),
        now,
    );
    status.phase = Some(RolloutPhase::Degraded);
    status.message = Some(format!("InvalidSpec: {message}"));
    let mut plan = Plan {
        status,
        ..Plan::default()
    };
    if changed {
        plan.events.push(RolloutEvent::warning(INVALID_SPEC, message));
    }
    plan
}
