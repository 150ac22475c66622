//! Rollout validation: the spec as a whole, blue-green, and the analysis references.

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{FieldError, Problems, Validate};
use crate::meta::{selector_is_empty, selector_matches};
use crate::rollout::{AntiAffinity, BlueGreenStrategy, Rollout, RolloutAnalysis, RolloutSpec};

mod canary;
mod routing;

impl Validate for Rollout {
    fn validate(&self) -> Vec<FieldError> {
        let mut p = Problems::default();
        p.required_name(self.metadata.name.as_deref());
        spec(&mut p, &self.spec);
        unsupported(&mut p, self);
        routing::routing(&mut p, self);
        p.into_vec()
    }
}

fn spec(p: &mut Problems, spec: &RolloutSpec) {
    workload(p, spec);
    p.non_negative("spec.replicas", spec.replicas);
    p.non_negative("spec.minReadySeconds", spec.min_ready_seconds);
    p.non_negative("spec.revisionHistoryLimit", spec.revision_history_limit);
    if let Some(deadline) = spec.progress_deadline_seconds {
        if deadline <= 0 {
            p.add(
                "spec.progressDeadlineSeconds",
                format!("{deadline} must be greater than 0"),
            );
        } else if deadline <= spec.effective_min_ready_seconds() {
            p.add(
                "spec.progressDeadlineSeconds",
                "must be greater than spec.minReadySeconds",
            );
        }
    }
    if let Some(window) = &spec.rollback_window {
        p.non_negative("spec.rollbackWindow.revisions", window.revisions);
    }
    if let Some(history) = &spec.analysis {
        p.non_negative(
            "spec.analysis.successfulRunHistoryLimit",
            history.successful_run_history_limit,
        );
        p.non_negative(
            "spec.analysis.unsuccessfulRunHistoryLimit",
            history.unsuccessful_run_history_limit,
        );
    }
    let strategy = spec.strategy.clone().unwrap_or_default();
    match (&strategy.canary, &strategy.blue_green) {
        (Some(c), None) => canary::validate(p, spec, c),
        (None, Some(bg)) => blue_green(p, spec, bg),
        _ => p.add("spec.strategy", "exactly one of canary or blueGreen"),
    }
}

fn workload(p: &mut Problems, spec: &RolloutSpec) {
    if let Some(workload) = &spec.workload_ref {
        if spec.template.is_some() {
            p.add("spec.template", "must be empty when spec.workloadRef is set");
        }
        match workload.kind.as_deref() {
            Some("Deployment" | "ReplicaSet" | "PodTemplate") => {}
            Some(other) => p.add(
                "spec.workloadRef.kind",
                format!("{other:?} is not one of Deployment, ReplicaSet or PodTemplate"),
            ),
            None => p.add("spec.workloadRef.kind", "required"),
        }
        if workload.name.as_deref().is_none_or(str::is_empty) {
            p.add("spec.workloadRef.name", "required");
        }
        if let Some(mode) = workload
            .scale_down
            .as_deref()
            .filter(|m| !["never", "onsuccess", "progressively"].contains(m))
        {
            p.add(
                "spec.workloadRef.scaleDown",
                format!("{mode:?} is not one of never, onsuccess or progressively"),
            );
        }
    }
    let selector = match &spec.selector {
        Some(selector) if selector_is_empty(selector) => {
            p.add(
                "spec.selector",
                "must not be empty (an empty selector selects all pods)",
            );
            None
        }
        Some(selector) => Some(selector),
        None => {
            if spec.workload_ref.is_none() {
                p.add("spec.selector", "required");
            }
            None
        }
    };
    let Some(template) = &spec.template else {
        if spec.workload_ref.is_none() {
            p.add("spec.template", "required");
        }
        return;
    };
    let labels = template
        .metadata
        .as_ref()
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    if let Some(selector) = selector {
        match selector_matches(selector, &labels) {
            Ok(true) => {}
            Ok(false) => p.add("spec.template.metadata.labels", "do not match spec.selector"),
            Err(message) => p.add("spec.selector.matchExpressions", message),
        }
    }
    if template.spec.as_ref().is_none_or(|s| s.containers.is_empty()) {
        p.add("spec.template.spec.containers", "at least one container is required");
    }
}

fn blue_green(p: &mut Problems, spec: &RolloutSpec, bg: &BlueGreenStrategy) {
    const BASE: &str = "spec.strategy.blueGreen";
    match bg.active_service.as_deref() {
        None | Some("") => p.add(format!("{BASE}.activeService"), "required"),
        Some(active) if bg.preview_service.as_deref() == Some(active) => {
            p.add(BASE, "activeService and previewService must differ");
        }
        Some(_) => {}
    }
    p.non_negative(&format!("{BASE}.previewReplicaCount"), bg.preview_replica_count);
    p.non_negative(&format!("{BASE}.autoPromotionSeconds"), bg.auto_promotion_seconds);
    p.non_negative(&format!("{BASE}.scaleDownDelaySeconds"), bg.scale_down_delay_seconds);
    p.non_negative(
        &format!("{BASE}.abortScaleDownDelaySeconds"),
        bg.abort_scale_down_delay_seconds,
    );
    revision_limit(p, BASE, spec, bg.scale_down_delay_revision_limit);
    if let Some(value) = &bg.max_unavailable {
        int_or_percent(p, &format!("{BASE}.maxUnavailable"), value);
    }
    if let Some(analysis) = &bg.pre_promotion_analysis {
        rollout_analysis(p, &format!("{BASE}.prePromotionAnalysis"), analysis);
    }
    if let Some(analysis) = &bg.post_promotion_analysis {
        rollout_analysis(p, &format!("{BASE}.postPromotionAnalysis"), analysis);
    }
    if let Some(anti) = &bg.anti_affinity {
        anti_affinity(p, &format!("{BASE}.antiAffinity"), anti);
    }
}

/// `scaleDownDelayRevisionLimit` must be non-negative and within `revisionHistoryLimit`.
fn revision_limit(p: &mut Problems, base: &str, spec: &RolloutSpec, limit: Option<i32>) {
    let path = format!("{base}.scaleDownDelayRevisionLimit");
    p.non_negative(&path, limit);
    if let Some(limit) = limit.filter(|l| *l > spec.effective_revision_history_limit()) {
        p.add(
            path,
            format!(
                "{limit} exceeds spec.revisionHistoryLimit ({})",
                spec.effective_revision_history_limit()
            ),
        );
    }
}

/// A maxSurge/maxUnavailable value: a non-negative number, or a percentage string.
/// Returns the value scaled against 100 replicas, when it is valid.
fn int_or_percent(p: &mut Problems, path: &str, value: &IntOrString) -> Option<i32> {
    match crate::defaults::scaled_int_or_percent("", value, 100, true) {
        Ok(v) if v < 0 => {
            p.add(path, "must not be negative");
            None
        }
        Ok(v) => Some(v),
        Err(e) => {
            p.add(path, format!("{:?} is not a number or a percentage", e.value));
            None
        }
    }
}

fn anti_affinity(p: &mut Problems, base: &str, anti: &AntiAffinity) {
    match (
        &anti.preferred_during_scheduling_ignored_during_execution,
        &anti.required_during_scheduling_ignored_during_execution,
    ) {
        (Some(pref), None) => {
            p.in_range(&format!("{base}.preferredDuringSchedulingIgnoredDuringExecution.weight"), pref.weight, 1, 100);
        }
        (None, Some(_)) => {}
        _ => p.add(
            base,
            "exactly one of preferredDuringSchedulingIgnoredDuringExecution or requiredDuringSchedulingIgnoredDuringExecution",
        ),
    }
}

/// Checks an analysis reference (step, background, pre- or post-promotion).
fn rollout_analysis(p: &mut Problems, base: &str, analysis: &RolloutAnalysis) {
    if analysis.templates.is_empty() {
        p.add(format!("{base}.templates"), "at least one template is required");
    }
    for (i, template) in analysis.templates.iter().enumerate() {
        if template.template_name.is_empty() {
            p.add(format!("{base}.templates[{i}].templateName"), "required");
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, arg) in analysis.args.iter().enumerate() {
        let path = format!("{base}.args[{i}]");
        if arg.name.is_empty() {
            p.add(format!("{path}.name"), "required");
        } else if !seen.insert(arg.name.as_str()) {
            p.add(format!("{path}.name"), format!("duplicate argument {:?}", arg.name));
        }
        match (&arg.value, &arg.value_from) {
            (Some(_), Some(_)) => p.add(path, "value and valueFrom are mutually exclusive"),
            (None, Some(from)) => match (&from.pod_template_hash_value, &from.field_ref) {
                (Some(hash), None) => {
                    if hash != "Stable" && hash != "Latest" {
                        p.add(
                            format!("{path}.valueFrom.podTemplateHashValue"),
                            format!("{hash:?} is not one of Stable or Latest"),
                        );
                    }
                }
                (None, Some(field)) => {
                    if field.field_path.is_empty() {
                        p.add(format!("{path}.valueFrom.fieldRef.fieldPath"), "required");
                    }
                }
                _ => p.add(
                    format!("{path}.valueFrom"),
                    "exactly one of podTemplateHashValue or fieldRef",
                ),
            },
            _ => {}
        }
    }
    for (i, dry) in analysis.dry_run.iter().enumerate() {
        if dry.metric_name.is_empty() {
            p.add(format!("{base}.dryRun[{i}].metricName"), "required");
        }
    }
    for (i, keep) in analysis.measurement_retention.iter().enumerate() {
        if keep.limit <= 0 {
            p.add(
                format!("{base}.measurementRetention[{i}].limit"),
                format!("{} must be greater than 0", keep.limit),
            );
        }
    }
}

/// Features of the Argo schema Sluice refuses rather than silently ignores: the controller reports
/// them as InvalidSpec and `kubectl sluice lint` before anything is applied.
fn unsupported(p: &mut Problems, rollout: &Rollout) {
    let mut add = |path: &str| p.add(path.to_owned(), "not supported yet");
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
}
