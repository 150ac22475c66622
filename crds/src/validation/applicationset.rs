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
            let kinds = g.kinds();
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
