//! ApplicationSet validation: one kind per generator, and a valid Application template.

use super::{FieldError, Problems, Validate, application, join_and};
use crate::gitops::ApplicationSet;

impl Validate for ApplicationSet {
    fn validate(&self) -> Vec<FieldError> {
        let mut p = Problems::default();
        p.required_name(self.metadata.name.as_deref());
        if self.spec.generators.is_empty() {
            p.add("spec.generators", "at least one generator is required");
        }
        for (i, g) in self.spec.generators.iter().enumerate() {
            let kinds: Vec<&str> = [
                ("list", g.list.is_some()),
                ("clusters", g.clusters.is_some()),
                ("git", g.git.is_some()),
                ("matrix", g.matrix.is_some()),
                ("merge", g.merge.is_some()),
                ("scmProvider", g.scm_provider.is_some()),
                ("pullRequest", g.pull_request.is_some()),
                ("clusterDecisionResource", g.cluster_decision_resource.is_some()),
                ("plugin", g.plugin.is_some()),
            ]
            .into_iter()
            .filter(|(_, on)| *on)
            .map(|(name, _)| name)
            .collect();
            if kinds.len() != 1 {
                let found = if kinds.is_empty() {
                    "none".to_owned()
                } else {
                    join_and(&kinds)
                };
                p.add(
                    format!("spec.generators[{i}]"),
                    format!("exactly one generator kind is required, found {found}"),
                );
            }
            if let Some(git) = &g.git {
                if git.repo_url.trim().is_empty() {
                    p.add(format!("spec.generators[{i}].git.repoURL"), "required");
                }
                if git.directories.is_empty() && git.files.is_empty() {
                    p.add(format!("spec.generators[{i}].git"), "directories or files is required");
                }
            }
        }
        if self.spec.template.metadata.name.as_deref().is_none_or(str::is_empty) {
            p.add("spec.template.metadata.name", "required");
        }
        application::spec(&mut p, "spec.template.spec", &self.spec.template.spec);
        p.into_vec()
    }
}
