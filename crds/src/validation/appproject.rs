//! AppProject validation: destinations, resource lists, roles and their policies.

use std::collections::BTreeSet;

use super::{FieldError, Problems, Validate};
use crate::duration;
use crate::gitops::{AppProject, GroupKind};

impl Validate for AppProject {
    fn validate(&self) -> Vec<FieldError> {
        let mut p = Problems::default();
        p.required_name(self.metadata.name.as_deref());
        let project = self.metadata.name.as_deref().unwrap_or_default();
        let spec = &self.spec;
        for (i, repo) in spec.source_repos.iter().enumerate() {
            if repo.trim().is_empty() {
                p.add(format!("spec.sourceRepos[{i}]"), "must not be empty");
            }
        }
        for (i, dest) in spec.destinations.iter().enumerate() {
            let has = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
            if !has(&dest.server) && !has(&dest.name) {
                p.add(format!("spec.destinations[{i}]"), "server or name is required");
            }
        }
        for (field, list) in [
            ("clusterResourceWhitelist", &spec.cluster_resource_whitelist),
            ("clusterResourceBlacklist", &spec.cluster_resource_blacklist),
            ("namespaceResourceWhitelist", &spec.namespace_resource_whitelist),
            ("namespaceResourceBlacklist", &spec.namespace_resource_blacklist),
        ] {
            group_kinds(&mut p, field, list);
        }
        let mut roles = BTreeSet::new();
        for (i, role) in spec.roles.iter().enumerate() {
            let path = format!("spec.roles[{i}]");
            if !valid_role_name(&role.name) {
                p.add(
                    format!("{path}.name"),
                    format!("{:?} is not a valid role name (letters, digits, - and _)", role.name),
                );
            } else if !roles.insert(role.name.as_str()) {
                p.add(format!("{path}.name"), format!("duplicate role {:?}", role.name));
            }
            for (j, policy) in role.policies.iter().enumerate() {
                if let Err(message) = check_policy(policy, project, &role.name) {
                    p.add(format!("{path}.policies[{j}]"), message);
                }
            }
        }
        for (i, window) in spec.sync_windows.iter().enumerate() {
            let path = format!("spec.syncWindows[{i}]");
            match window.kind.as_deref() {
                Some("allow" | "deny") => {}
                other => p.add(
                    format!("{path}.kind"),
                    format!("{:?} is not one of allow or deny", other.unwrap_or("")),
                ),
            }
            if window.schedule.as_deref().is_none_or(str::is_empty) {
                p.add(format!("{path}.schedule"), "required");
            }
            match window.duration.as_deref() {
                None | Some("") => p.add(format!("{path}.duration"), "required"),
                Some(text) => {
                    if let Err(e) = duration::parse(text) {
                        p.add(format!("{path}.duration"), e.to_string());
                    }
                }
            }
        }
        p.into_vec()
    }
}

fn group_kinds(p: &mut Problems, field: &str, list: &[GroupKind]) {
    for (i, gk) in list.iter().enumerate() {
        if gk.kind.is_empty() {
            p.add(format!("spec.{field}[{i}].kind"), "required");
        }
    }
}

fn valid_role_name(name: &str) -> bool {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    !name.is_empty()
        && name.chars().all(ok_char)
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// Checks a policy line `p, proj:<project>:<role>, <resource>, <action>, <project>/<object>, <allow|deny>`.
fn check_policy(policy: &str, project: &str, role: &str) -> Result<(), String> {
    let parts: Vec<&str> = policy.split(',').map(str::trim).collect();
    let [kind, subject, resource, _action, object, effect] = parts.as_slice() else {
        return Err(format!(
            "{policy:?} must have 6 comma-separated fields: p, proj:{project}:{role}, resource, action, {project}/object, allow|deny"
        ));
    };
    if *kind != "p" {
        return Err(format!("policy type must be \"p\", found {kind:?}"));
    }
    let expected = format!("proj:{project}:{role}");
    if *subject != expected {
        return Err(format!("policy subject must be {expected:?}, found {subject:?}"));
    }
    const RESOURCES: &[&str] = &[
        "applications",
        "applicationsets",
        "repositories",
        "clusters",
        "logs",
        "exec",
    ];
    if !RESOURCES.contains(resource) {
        return Err(format!(
            "unknown resource {resource:?} (expected one of {})",
            RESOURCES.join(", ")
        ));
    }
    if !object.starts_with(&format!("{project}/")) {
        return Err(format!(
            "policy object must start with \"{project}/\", found {object:?}"
        ));
    }
    if *effect != "allow" && *effect != "deny" {
        return Err(format!("policy effect must be allow or deny, found {effect:?}"));
    }
    Ok(())
}
