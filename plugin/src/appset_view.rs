//! What `kubectl sluice appset get` prints, pure: the set's generators and policy, its
//! conditions, every parameter set its generators give now (computed by the plugin, as the
//! controller does) with the Application each renders, and the Applications it owns.

use std::fmt::Write as _;

use crds::gitops::ApplicationSet;
use gitops::appset::{GeneratorError, Params, template};
use kube::ResourceExt as _;
use serde_json::Value;

fn generator_kinds(set: &ApplicationSet) -> String {
    set.spec
        .generators
        .iter()
        .map(|g| g.kinds().first().copied().unwrap_or("?"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `appset get` view of `set`, with `generated` what its generators give now.
#[must_use]
pub fn get(set: &ApplicationSet, generated: &Result<Vec<(String, Params)>, GeneratorError>) -> String {
    let mut out = String::new();
    let namespace = set.namespace().unwrap_or_default();
    let policy = set
        .spec
        .sync_policy
        .as_ref()
        .and_then(|p| p.get("applicationsSync"))
        .and_then(Value::as_str)
        .unwrap_or("sync");
    let _ = writeln!(out, "Name:        {namespace}/{}", set.name_any());
    let _ = writeln!(out, "Generators:  {}", generator_kinds(set));
    let _ = writeln!(out, "Policy:      {policy}");
    let conditions = set.status.as_ref().map(|s| s.conditions.clone()).unwrap_or_default();
    if !conditions.is_empty() {
        let _ = writeln!(
            out,
            "\nCONDITION            STATUS   REASON                       MESSAGE"
        );
        for c in &conditions {
            let text = |k: &str| c[k].as_str().unwrap_or_default().to_owned();
            let _ = writeln!(
                out,
                "{:<20} {:<8} {:<28} {}",
                text("type"),
                text("status"),
                text("reason"),
                text("message")
            );
        }
    }
    let _ = writeln!(out, "\nPARAMETERS");
    match generated {
        Err(error) => {
            let _ = writeln!(out, "  cannot generate: {error}");
        }
        Ok(sets) if sets.is_empty() => {
            let _ = writeln!(out, "  (none)");
        }
        Ok(sets) => {
            for (field, params) in sets {
                let rendered = template::render(
                    &set.spec.template,
                    params,
                    set.spec.go_template == Some(true),
                    &namespace,
                    field,
                );
                let result = match rendered {
                    Ok(app) => format!(
                        "-> Application {}",
                        app["metadata"]["name"].as_str().unwrap_or_default()
                    ),
                    Err(error) => format!("-> {error}"),
                };
                let _ = writeln!(out, "  {field} {result}");
                for (key, value) in params {
                    let _ = writeln!(out, "      {key} = {value}");
                }
            }
        }
    }
    let _ = writeln!(out, "\nAPPLICATIONS");
    let resources = set.status.as_ref().map(|s| s.resources.clone()).unwrap_or_default();
    if resources.is_empty() {
        let _ = writeln!(out, "  (none)");
    }
    for r in &resources {
        let text = |p: &str| r.pointer(p).and_then(Value::as_str).unwrap_or("-").to_owned();
        let _ = writeln!(
            out,
            "  {:<30} {:<10} {}",
            text("/name"),
            text("/status"),
            text("/health/status")
        );
    }
    out
}
