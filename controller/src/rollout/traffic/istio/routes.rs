//! Istio header and mirror routes (Argo's `SetHeaderRoute`, `SetMirrorRoute`): the
//! VirtualService's managed HTTP routes, built from the wanted ones and placed first.

use crds::Rollout;
use serde_json::{Value, json};

use super::{Sides, managed_routes};
use crate::rollout::traffic::managed::Wanted;
use crate::rollout::traffic::{RouteError, RouteTarget, Split};

/// An Istio string match (`exact`, `prefix`, `regex`) from Argo's.
fn string_match(m: &crds::rollout::StringMatch) -> Value {
    let mut out = serde_json::Map::new();
    for (key, value) in [("exact", &m.exact), ("prefix", &m.prefix), ("regex", &m.regex)] {
        if let Some(v) = value {
            out.insert(key.into(), Value::from(v.as_str()));
        }
    }
    Value::Object(out)
}

/// The HTTP route for a wanted managed route (Argo's `createHeaderRoute` / `createMirrorRoute`):
/// a header route sends its matches to the canary destination alone; a mirror route keeps the
/// weighted route's destinations and mirrors a share to the canary.
fn managed_route(wanted: &Wanted<'_>, weighted: &[Value], canary: &Value) -> Value {
    let canary_destination = canary.get("destination").cloned().unwrap_or(Value::Null);
    match wanted {
        Wanted::Header { name, matches } => {
            let matches: Vec<Value> = matches
                .iter()
                .map(|m| {
                    let value = m.header_value.as_ref().map_or_else(|| json!({}), string_match);
                    json!({"headers": {m.header_name.clone(): value}})
                })
                .collect();
            json!({"name": name, "match": matches,
                "route": [{"destination": canary_destination, "weight": 100}]})
        }
        Wanted::Mirror {
            name,
            matches,
            percentage,
        } => {
            let matches: Vec<Value> = matches
                .iter()
                .map(|m| {
                    let mut out = serde_json::Map::new();
                    if let Some(method) = &m.method {
                        out.insert("method".into(), string_match(method));
                    }
                    if let Some(path) = &m.path {
                        out.insert("uri".into(), string_match(path));
                    }
                    if !m.headers.is_empty() {
                        let headers: serde_json::Map<String, Value> =
                            m.headers.iter().map(|(k, v)| (k.clone(), string_match(v))).collect();
                        out.insert("headers".into(), Value::Object(headers));
                    }
                    Value::Object(out)
                })
                .collect();
            json!({"name": name, "match": matches, "route": weighted,
                "mirror": canary_destination, "mirrorPercentage": {"value": f64::from(*percentage)}})
        }
    }
}

/// The JSON Patch that makes the VirtualService's managed routes (`managedRoutes`) the wanted
/// ones, first in `spec.http` in `managedRoutes` order, as Argo places them (empty when they are).
///
/// # Errors
/// [`RouteError::NoDestinations`] when a route is wanted but no weighted route has a canary
/// destination to send it to.
pub fn managed_ops(
    target: &RouteTarget,
    rollout: &Rollout,
    object: &Value,
    split: &Split<'_>,
) -> Result<Vec<Value>, RouteError> {
    let names = crate::rollout::traffic::managed::names(rollout);
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let sides = Sides::of(rollout, split);
    let mut wanted = Vec::new();
    if !split.managed.is_empty() {
        let Some((_, weighted)) = managed_routes(target, rollout, object)
            .into_iter()
            .find(|(at, _)| at.starts_with("/spec/http/"))
        else {
            return Err(RouteError::NoDestinations {
                target: Box::new(target.clone()),
                stable: sides.stable.to_owned(),
                canary: sides.canary.to_owned(),
            });
        };
        let canary = weighted
            .iter()
            .find(|d| sides.side(d) == Some(true))
            .cloned()
            .unwrap_or(Value::Null);
        wanted = split
            .managed
            .iter()
            .map(|w| managed_route(w, weighted, &canary))
            .collect();
    }
    Ok(crate::rollout::traffic::managed::place(
        object,
        "/spec/http",
        &names,
        wanted,
        crate::rollout::traffic::managed::At::Start,
    ))
}
