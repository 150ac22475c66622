//! Managed routes (`trafficRouting.managedRoutes` with `setHeaderRoute` / `setMirrorRoute` steps,
//! Argo's `SetHeaderRoute`, `SetMirrorRoute` and `RemoveManagedRoutes`): which routes a Rollout
//! wants in its routers now, worked out from its steps rather than remembered, so a restarted
//! controller wants the same. A step sets its route (or, with no `match`, removes it); the route
//! stays until a later step of that name changes it; every managed route goes once the update
//! is over, promoted or aborted.

use crds::Rollout;
use crds::rollout::{HeaderRoutingMatch, RouteMatch};

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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::json;

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
