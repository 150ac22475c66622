//! The auto-revert scenario shared by the revert tests and the bench: a canary Rollout whose
//! analysis (a Job that exits 1) always fails, and an Application of its folder with auto-revert.

use std::path::Path;

use crate::git::GitRepo;
use serde_json::{Value, json};

/// The Rollout with `image`: a 50% canary step, then the failing analysis.
pub fn rollout(image: &str) -> String {
    format!(
        "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: api\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {{app: api}}\n  template:\n    metadata:\n      labels: {{app: api}}\n      annotations: {{sim.sluice.dev/start-delay: 100ms}}\n    spec:\n      containers:\n      - name: api\n        image: {image}\n  strategy:\n    canary:\n      steps:\n      - setWeight: 50\n      - analysis:\n          templates:\n          - templateName: check\n"
    )
}

/// The analysis template: one Job metric that fails.
pub const CHECK: &str = "apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata:\n  name: check\nspec:\n  metrics:\n  - name: smoke\n    provider:\n      job:\n        spec:\n          backoffLimit: 0\n          template:\n            metadata:\n              annotations: {sim.sluice.dev/start-delay: 100ms}\n            spec:\n              restartPolicy: Never\n              containers:\n              - name: check\n                image: check:1-fail\n";

/// The Application `argocd/api` of folder `api` at `url` on `main`, auto-revert `mode`
/// (`"true"`, `"dry-run"`), with this `syncPolicy.automated`.
pub fn application(url: &str, mode: &str, automated: Value) -> Value {
    json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": "api", "namespace": "argocd", "annotations": {"sluice.dev/auto-revert": mode}},
        "spec": {
            "source": {"repoURL": url, "path": "api", "targetRevision": "main"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "default"},
            "syncPolicy": {"automated": automated},
        }
    })
}

/// The repository `apps` in `served` (created if missing) with its first, good commit: the
/// Rollout on `api:1` and the check under `api/`. Returns the repository and that commit.
pub fn first_commit(served: &Path) -> (GitRepo, String) {
    std::fs::create_dir_all(served).unwrap();
    let repo = GitRepo::create(served, "apps");
    let good = repo.commit(
        &[("api/rollout.yaml", &rollout("api:1")), ("api/check.yaml", CHECK)],
        "api 1",
    );
    (repo, good)
}
