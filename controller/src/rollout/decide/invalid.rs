//! InvalidSpec (Argo's `getRolloutValidationErrors` and `validation.ValidateRollout`): the spec's
//! own problems, the features and traffic routing Sluice does not carry out yet (all
//! `crds::validation`'s, which `kubectl sluice lint` runs too), and referenced objects that are
//! missing or cannot carry the split. An invalid
//! Rollout gets an `InvalidSpec` condition and nothing else is done until it is fixed.

use crds::Rollout;
use crds::rollout::conditions::{INVALID_SPEC, condition, set_condition};
use crds::rollout::{AnalysisAt, RolloutPhase, RolloutStatus, ServiceRef, TemplateRef};
use crds::validation::Validate as _;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::rollout::plan::{Event, Plan};
use crate::rollout::snapshot::Snapshot;
use crds::keys::MANAGED_BY_ANNOTATION;

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
    // The spec's own problems, the features and routing Sluice does not serve: the refusals
    // `kubectl sluice lint` makes too.
    let mut all: Vec<String> = snap.rollout.validate().iter().map(ToString::to_string).collect();
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
        plan.events.push(Event::warning(INVALID_SPEC, message));
    }
    plan
}
