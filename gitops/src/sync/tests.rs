//! The sync plan, table-driven: phases, waves, kind order, hooks, prune order and options.

use serde_json::{Value, json};

use super::*;

fn object(kind: &str, name: &str, annotations: Value) -> Value {
    json!({"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "annotations": annotations}})
}

/// The plan as `phase/wave: action kind/name, ...` lines.
fn shown(plan: &Plan<'_>) -> Vec<String> {
    plan.steps
        .iter()
        .map(|s| {
            let tasks: Vec<String> = s
                .tasks
                .iter()
                .map(|t| format!("{:?} {}/{}", t.action, t.kind(), t.name()))
                .collect();
            format!("{:?}/{}: {}", s.phase, s.wave, tasks.join(", "))
        })
        .collect()
}

#[test]
fn phases_then_waves_then_kinds_then_names() {
    let desired = vec![
        object("Deployment", "web", json!({})),
        object("Service", "web", json!({})),
        object("ConfigMap", "b-config", json!({})),
        object("ConfigMap", "a-config", json!({})),
        object("Namespace", "shop", json!({"argocd.argoproj.io/sync-wave": "-1"})),
        object("Job", "migrate", json!({"argocd.argoproj.io/hook": "PreSync"})),
        object("Job", "smoke", json!({"argocd.argoproj.io/hook": "PostSync"})),
        object("Job", "notify-failure", json!({"argocd.argoproj.io/hook": "SyncFail"})),
        object("Rollout", "api", json!({"argocd.argoproj.io/sync-wave": "2"})),
        object("Pod", "ignored", json!({"argocd.argoproj.io/hook": "Skip"})),
    ];
    let plan = plan(&desired, &[], Options::default());
    assert_eq!(
        shown(&plan),
        [
            "PreSync/0: Hook Job/migrate",
            "Sync/-1: Apply Namespace/shop",
            "Sync/0: Apply ConfigMap/a-config, Apply ConfigMap/b-config, Apply Service/web, Apply Deployment/web",
            "Sync/2: Apply Rollout/api",
            "PostSync/0: Hook Job/smoke",
        ]
    );
    assert_eq!(plan.on_failure.len(), 1);
    assert_eq!(plan.left_alone.len(), 1, "the Skip hook is not applied");
}

#[test]
fn kinds_outside_the_order_are_grouped_so_templates_go_before_the_rollouts_using_them() {
    let desired = vec![
        object("Rollout", "api", json!({})),
        object("AnalysisTemplate", "success-rate", json!({})),
        object("Rollout", "web", json!({})),
        object("AnalysisTemplate", "latency", json!({})),
        object("Service", "api", json!({})),
    ];
    let plan = plan(&desired, &[], Options::default());
    assert_eq!(
        shown(&plan),
        [
            "Sync/0: Apply Service/api, Apply AnalysisTemplate/latency, Apply AnalysisTemplate/success-rate, Apply Rollout/api, Apply Rollout/web"
        ]
    );
}

#[test]
fn pruning_mirrors_waves_and_goes_last_when_asked() {
    let desired = vec![object("ConfigMap", "kept", json!({}))];
    let extra = vec![
        object("Namespace", "old-ns", json!({"argocd.argoproj.io/sync-wave": "-1"})),
        object("Deployment", "old-web", json!({"argocd.argoproj.io/sync-wave": "1"})),
        object("Service", "old-svc", json!({"argocd.argoproj.io/sync-wave": "1"})),
        object(
            "Secret",
            "keep-me",
            json!({"argocd.argoproj.io/sync-options": "Prune=false"}),
        ),
    ];
    let pruned = plan(
        &desired,
        &extra,
        Options {
            prune: true,
            prune_last: false,
        },
    );
    assert_eq!(
        shown(&pruned),
        [
            "Sync/-1: Prune Deployment/old-web, Prune Service/old-svc",
            "Sync/0: Apply ConfigMap/kept",
            "Sync/1: Prune Namespace/old-ns",
        ],
        "created last, deleted first; workloads before their Service"
    );
    assert_eq!(pruned.left_alone.len(), 1, "Prune=false is never deleted");
    let last = plan(
        &desired,
        &extra,
        Options {
            prune: true,
            prune_last: true,
        },
    );
    assert_eq!(
        shown(&last),
        [
            "Sync/0: Apply ConfigMap/kept",
            "Sync/2: Prune Deployment/old-web, Prune Service/old-svc, Prune Namespace/old-ns",
        ]
    );
    let untouched = plan(&desired, &extra, Options::default());
    assert_eq!(shown(&untouched), ["Sync/0: Apply ConfigMap/kept"]);
    assert_eq!(
        untouched.left_alone.len(),
        4,
        "without prune, extra resources are only reported"
    );
}

#[test]
fn a_hook_in_two_phases_runs_in_both_and_helm_hooks_map() {
    let desired = vec![
        object("Job", "both", json!({"argocd.argoproj.io/hook": "PreSync,PostSync"})),
        object(
            "Job",
            "helm-pre",
            json!({"helm.sh/hook": "pre-install", "helm.sh/hook-weight": "-5"}),
        ),
    ];
    let plan = plan(&desired, &[], Options::default());
    assert_eq!(
        shown(&plan),
        [
            "PreSync/-5: Hook Job/helm-pre",
            "PreSync/0: Hook Job/both",
            "PostSync/0: Hook Job/both"
        ]
    );
}
