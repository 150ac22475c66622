//! Managed routes (`trafficRouting.managedRoutes` with `setHeaderRoute` / `setMirrorRoute` steps,
//! Argo's `SetHeaderRoute`, `SetMirrorRoute` and `RemoveManagedRoutes`): which routes a Rollout
//! wants in its routers now, worked out from its steps rather than remembered, so a restarted
//! controller wants the same. A step sets its route (or, with no `match`, removes it); the route
//! stays until a later step of that name changes it; every managed route goes once the update
//! is over, promoted or aborted.

use crds::Rollout;
use crds::rollout::{HeaderRoutingMatch, RouteMatch};
use serde_json::{Value, json};

use super::owned::covers;

/// A route the Rollout wants in its routers.
#[derive(Clone, Debug, PartialEq)]
pub enum Wanted<'a> {
    /// Requests matching all these headers go to the canary.
    Header {
        /// The route's name (listed in `managedRoutes`).
        name: &'a str,
        /// Its header conditions.
        matches: &'a [HeaderRoutingMatch],
    },
    /// Requests matching any of these conditions are mirrored to the canary.
    Mirror {
        /// The route's name (listed in `managedRoutes`).
        name: &'a str,
        /// Its request conditions.
        matches: &'a [RouteMatch],
        /// The share mirrored, in percent.
        percentage: i32,
    },
}

impl Wanted<'_> {
    /// The route's name.
    #[must_use]
    pub fn name(&self) -> &str {
        match self {
            Self::Header { name, .. } | Self::Mirror { name, .. } => name,
        }
    }
}

/// The names in `managedRoutes`, in order.
#[must_use]
pub fn names(rollout: &Rollout) -> Vec<&str> {
    rollout
        .canary()
        .and_then(|c| c.traffic_routing.as_ref())
        .map(|r| r.managed_routes.iter().map(|m| m.name.as_str()).collect())
        .unwrap_or_default()
}

/// The routes wanted with the update at step `index` (`None`, or `in_flight` false: none), in
/// `managedRoutes` order.
#[must_use]
pub fn wanted(rollout: &Rollout, index: Option<i32>, in_flight: bool) -> Vec<Wanted<'_>> {
    let Some(index) = index.filter(|_| in_flight) else {
        return Vec::new();
    };
    let mut set: Vec<Wanted<'_>> = Vec::new();
    let upto = usize::try_from(index).unwrap_or(0) + 1;
    for step in rollout.steps().iter().take(upto) {
        let (name, route) = if let Some(h) = &step.set_header_route {
            let route = (!h.matches.is_empty()).then_some(Wanted::Header {
                name: &h.name,
                matches: &h.matches,
            });
            (h.name.as_str(), route)
        } else if let Some(m) = &step.set_mirror_route {
            let route = (!m.matches.is_empty()).then_some(Wanted::Mirror {
                name: &m.name,
                matches: &m.matches,
                percentage: m.percentage.unwrap_or(100).clamp(0, 100),
            });
            (m.name.as_str(), route)
        } else {
            continue;
        };
        set.retain(|w| w.name() != name);
        set.extend(route);
    }
    let order = names(rollout);
    set.sort_by_key(|w| order.iter().position(|n| *n == w.name()).unwrap_or(usize::MAX));
    set
}

/// Where managed entries go in their list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum At {
    /// First (Istio: routes are tried in order, and Argo puts its managed routes first).
    Start,
    /// Last (Gateway API: precedence comes from the matches, not the order).
    End,
}

/// The JSON Patch that makes the entries of the list at `path` in `object` whose `name` is one of
/// `names` exactly `wanted`, placed at `at` (empty when they are already): the managed entries
/// are removed (each guarded by a `test` of its name) and the wanted ones added.
#[must_use]
pub fn place(object: &Value, path: &str, names: &[&str], wanted: Vec<Value>, at: At) -> Vec<Value> {
    let list: Vec<&Value> = object
        .pointer(path)
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let existing: Vec<(usize, &Value)> = list
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, e)| names.contains(&e.get("name").and_then(Value::as_str).unwrap_or_default()))
        .collect();
    let first = match at {
        At::Start => 0,
        At::End => list.len() - existing.len(),
    };
    let same = |have: &Value, want: &Value| covers(have, want) && covers(want, have);
    let in_place = existing.len() == wanted.len()
        && existing
            .iter()
            .zip(&wanted)
            .enumerate()
            .all(|(k, ((i, have), want))| *i == first + k && same(have, want));
    if in_place {
        return Vec::new();
    }
    let mut ops = Vec::new();
    for (i, entry) in existing.iter().rev() {
        ops.push(json!({"op": "test", "path": format!("{path}/{i}/name"), "value": entry.get("name")}));
        ops.push(json!({"op": "remove", "path": format!("{path}/{i}")}));
    }
    for (k, entry) in wanted.into_iter().enumerate() {
        let to = match at {
            At::Start => format!("{path}/{k}"),
            At::End => format!("{path}/-"),
        };
        ops.push(json!({"op": "add", "path": to, "value": entry}));
    }
    ops
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn rollout() -> Rollout {
        serde_json::from_value(json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "api"},
            "spec": {"strategy": {"canary": {"canaryService": "c", "stableService": "s",
                "trafficRouting": {"managedRoutes": [{"name": "mirror"}, {"name": "header"}],
                    "istio": {"virtualService": {"name": "vs", "routes": ["primary"]}}},
                "steps": [
                    {"setWeight": 10},
                    {"setHeaderRoute": {"name": "header", "match": [{"headerName": "X-Canary", "headerValue": {"exact": "yes"}}]}},
                    {"setMirrorRoute": {"name": "mirror", "percentage": 30, "match": [{"method": {"exact": "GET"}}]}},
                    {"pause": {}},
                    {"setHeaderRoute": {"name": "header"}},
                    {"pause": {}}
                ]}}}
        }))
        .unwrap()
    }

    #[test]
    fn routes_follow_the_steps_reached_in_managed_routes_order_and_go_when_the_update_ends() {
        let r = rollout();
        let names_at = |i: Option<i32>, in_flight: bool| -> Vec<String> {
            wanted(&r, i, in_flight).iter().map(|w| w.name().to_owned()).collect()
        };
        assert!(names_at(Some(0), true).is_empty());
        assert_eq!(names_at(Some(1), true), ["header"]);
        assert_eq!(names_at(Some(3), true), ["mirror", "header"], "managedRoutes order");
        assert_eq!(
            names_at(Some(4), true),
            ["mirror"],
            "a step without match removes its route"
        );
        assert!(names_at(Some(3), false).is_empty(), "promoted or aborted: none");
        assert!(names_at(None, true).is_empty());
        assert!(matches!(
            wanted(&r, Some(3), true)[0],
            Wanted::Mirror { percentage: 30, .. }
        ));
    }
}
