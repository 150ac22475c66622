//! Application validation: source, destination, sync policy.

use super::{FieldError, Problems, Validate, join_and};
use crate::duration;
use crate::gitops::{Application, ApplicationSource, ApplicationSpec, SyncPolicy};

impl Validate for Application {
    fn validate(&self) -> Vec<FieldError> {
        let mut p = Problems::default();
        p.required_name(self.metadata.name.as_deref());
        spec(&mut p, "spec", &self.spec);
        p.into_vec()
    }
}

/// Checks an Application spec found at `base` (also used for ApplicationSet templates).
pub(super) fn spec(p: &mut Problems, base: &str, spec: &ApplicationSpec) {
    match (&spec.source, spec.sources.is_empty()) {
        (Some(_), false) => p.add(base, "source and sources are mutually exclusive"),
        (None, true) => p.add(format!("{base}.source"), "required (or sources)"),
        (Some(source), true) => self::source(p, &format!("{base}.source"), source),
        (None, false) => {
            for (i, source) in spec.sources.iter().enumerate() {
                self::source(p, &format!("{base}.sources[{i}]"), source);
            }
        }
    }
    let dest = &spec.destination;
    let has = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
    match (has(&dest.server), has(&dest.name)) {
        (false, false) => p.add(format!("{base}.destination"), "server or name is required"),
        (true, true) => p.add(format!("{base}.destination"), "server and name are mutually exclusive"),
        _ => {}
    }
    if let Some(limit) = spec.revision_history_limit.filter(|l| *l < 0) {
        p.add(
            format!("{base}.revisionHistoryLimit"),
            format!("{limit} must not be negative"),
        );
    }
    if let Some(policy) = &spec.sync_policy {
        sync_policy(p, &format!("{base}.syncPolicy"), policy);
    }
    for (i, ignore) in spec.ignore_differences.iter().enumerate() {
        let path = format!("{base}.ignoreDifferences[{i}]");
        if ignore.kind.is_empty() {
            p.add(format!("{path}.kind"), "required");
        }
        for (j, pointer) in ignore.json_pointers.iter().enumerate() {
            if !pointer.starts_with('/') {
                p.add(
                    format!("{path}.jsonPointers[{j}]"),
                    format!("{pointer:?} is not a JSON pointer (it must start with /)"),
                );
            }
        }
    }
}

fn source(p: &mut Problems, path: &str, source: &ApplicationSource) {
    if source.repo_url.trim().is_empty() {
        p.add(format!("{path}.repoURL"), "required");
    }
    let kinds: Vec<&str> = [
        ("helm", source.helm.is_some()),
        ("kustomize", source.kustomize.is_some()),
        ("directory", source.directory.is_some()),
        ("plugin", source.plugin.is_some()),
    ]
    .into_iter()
    .filter(|(_, on)| *on)
    .map(|(name, _)| name)
    .collect();
    if kinds.len() > 1 {
        p.add(
            path,
            format!(
                "only one of helm, kustomize, directory or plugin may be set, found {}",
                join_and(&kinds)
            ),
        );
    }
    if let Some(dir) = source.path.as_deref()
        && (dir.starts_with('/') || dir.split('/').any(|part| part == ".."))
    {
        p.add(
            format!("{path}.path"),
            format!("{dir:?} must be relative and stay inside the repository"),
        );
    }
}

/// Sync options Argo CD understands, with the values each accepts.
const SYNC_OPTIONS: &[(&str, &[&str])] = &[
    ("Validate", &["true", "false"]),
    ("CreateNamespace", &["true", "false"]),
    ("PruneLast", &["true", "false"]),
    ("ApplyOutOfSyncOnly", &["true", "false"]),
    ("PrunePropagationPolicy", &["foreground", "background", "orphan"]),
    ("Replace", &["true", "false"]),
    ("Force", &["true", "false"]),
    ("ServerSideApply", &["true", "false"]),
    ("ClientSideApplyMigration", &["true", "false"]),
    ("RespectIgnoreDifferences", &["true", "false"]),
    ("FailOnSharedResource", &["true", "false"]),
    ("SkipDryRunOnMissingResource", &["true", "false"]),
    ("Prune", &["false", "confirm"]),
    ("Delete", &["false", "confirm"]),
];

fn sync_policy(p: &mut Problems, path: &str, policy: &SyncPolicy) {
    for (i, option) in policy.sync_options.iter().enumerate() {
        let field = format!("{path}.syncOptions[{i}]");
        let Some((key, value)) = option.split_once('=') else {
            p.add(field, format!("{option:?} is not of the form Key=Value"));
            continue;
        };
        match SYNC_OPTIONS.iter().find(|(known, _)| *known == key) {
            None => p.add(field, format!("unknown sync option {key:?}")),
            Some((_, allowed)) if !allowed.contains(&value) => {
                p.add(field, format!("{key} accepts {}, not {value:?}", join_and(allowed)));
            }
            Some(_) => {}
        }
    }
    if let Some(retry) = &policy.retry {
        if let Some(limit) = retry.limit.filter(|l| *l < -1) {
            p.add(
                format!("{path}.retry.limit"),
                format!("{limit} must be -1 (unlimited) or more"),
            );
        }
        if let Some(backoff) = &retry.backoff {
            for (field, value) in [("duration", &backoff.duration), ("maxDuration", &backoff.max_duration)] {
                if let Some(text) = value {
                    match duration::parse(text) {
                        Ok(d) if !d.is_positive() => {
                            p.add(
                                format!("{path}.retry.backoff.{field}"),
                                format!("{text:?} must be greater than 0"),
                            );
                        }
                        Ok(_) => {}
                        Err(e) => p.add(format!("{path}.retry.backoff.{field}"), e.to_string()),
                    }
                }
            }
            if let Some(factor) = backoff.factor.filter(|f| *f < 1) {
                p.add(
                    format!("{path}.retry.backoff.factor"),
                    format!("{factor} must be at least 1"),
                );
            }
        }
    }
}
