//! The traffic-routed canary (Argo's `reconcileTrafficRouting`, `rollout/trafficrouting.go`, and
//! `CalculateReplicaCountsForTrafficRoutedCanary`, `utils/replicaset/canary.go`).
//!
//! With a router the canary's share of requests is the router's weight, not its share of pods:
//! - the canary gets `ceil(replicas × weight / 100)` pods (or what `setCanaryScale` says), at
//!   least `minPodsPerReplicaSet`; the stable ReplicaSet keeps every replica;
//! - a weight is raised only once the canary has the pods to take it (lowering is at once), and a
//!   step completes only when every router object carries it (`trafficWeightVerified`);
//! - an abort sets weight 0 first; the canary is scaled down once the routers carry 0 and
//!   `abortScaleDownDelaySeconds` (30 s) passed since the abort (0 keeps it up);
//! - after promotion the stable Service selects the new pods, the weight goes back to 0, and
//!   the previous stable ReplicaSet stays up for `scaleDownDelaySeconds` (30 s);
//! - with `dynamicStableScale` the stable ReplicaSet is sized for the larger of the stable weight
//!   wanted and the one the routers carry (so it shrinks only once traffic left it, and grows
//!   before traffic comes back), and on abort the canary for the weight the routers still carry
//!   (so it shrinks as traffic leaves it, with no delay).

use crds::rollout::{CanaryStrategy, TrafficWeights, WeightDestination};
use jiff::SignedDuration;
use k8s_openapi::api::apps::v1::ReplicaSet;

use super::Pass;
use super::common::{annotate_deadline, scale, scale_down_deadline, size_new};
use crate::rollout::identity::{available, hash_of, spec_replicas};
use crate::rollout::plan::{Action, Event, reason};
use crate::rollout::traffic::{self, Split};

/// Default of `scaleDownDelaySeconds` and `abortScaleDownDelaySeconds`.
const DEFAULT_DELAY: i32 = 30;

/// The two Services and the total weight of a routed canary (the Services are empty with
/// Istio's subset-level splitting, which needs none).
fn services(spec: &CanaryStrategy) -> Option<(&str, &str, i32)> {
    let routing = spec.traffic_routing.as_ref()?;
    Some((
        spec.canary_service.as_deref().unwrap_or_default(),
        spec.stable_service.as_deref().unwrap_or_default(),
        routing.max_traffic_weight.unwrap_or(100),
    ))
}

/// The canary's pods for `weight` (of `max`): the latest `setCanaryScale` up to the current step
/// wins over the weight until a `matchTrafficWeight` (Argo's `GetCurrentSetCanaryScale`).
#[must_use]
pub fn canary_replicas(pass: &Pass<'_>, weight: i32) -> i32 {
    let replicas = pass.rollout.spec.effective_replicas();
    let Some(spec) = pass.rollout.canary() else { return 0 };
    let max = services(spec).map_or(100, |(_, _, max)| max).max(1);
    let index = pass.old.current_step_index.unwrap_or(0);
    let scale = pass
        .rollout
        .steps()
        .iter()
        .take(usize::try_from(index).unwrap_or(0) + 1)
        .filter_map(|s| s.set_canary_scale.as_ref())
        .next_back()
        .filter(|s| s.match_traffic_weight != Some(true) && !pass.pause.is_aborted());
    // `ceil(replicas × weight / of)` in integers (weights and replicas are never negative).
    let ceil = |w: i32, of: i32| {
        let (n, d) = (i64::from(replicas) * i64::from(w.max(0)), i64::from(of.max(1)));
        (n + d - 1) / d
    };
    let pods = match scale {
        Some(s) if s.replicas.is_some() => i64::from(s.replicas.unwrap_or(0)),
        Some(s) if s.weight.is_some() => ceil(s.weight.unwrap_or(0), 100),
        _ => ceil(weight, max),
    };
    let pods = i32::try_from(pods).unwrap_or(replicas);
    match spec.min_pods_per_replica_set {
        Some(min) if pods > 0 => pods.max(min.min(replicas)),
        _ => pods,
    }
}

/// The weight every router object carries now (the lowest), `None` when one cannot say.
fn observed(pass: &Pass<'_>, split: &Split<'_>) -> Option<i32> {
    let targets = traffic::targets(pass.rollout);
    targets
        .iter()
        .filter(|t| t.router.carries_weight())
        .map(|t| traffic::canary_weight(t, pass.rollout, &pass.snap.routes, split))
        .collect::<Option<Vec<i32>>>()
        .and_then(|weights| weights.into_iter().min())
}

/// The weight the routers should carry after this pass.
fn desired(pass: &Pass<'_>, step_weight: i32, observed: i32) -> i32 {
    let dynamic = pass.rollout.canary().and_then(|c| c.dynamic_stable_scale) == Some(true);
    if pass.pause.is_aborted()
        && dynamic
        && let Some(stable) = pass.sets.stable.filter(|_| !pass.sets.new_is_stable())
    {
        // Back to stable only as fast as its pods come back (Argo: `maxWeight - maxWeight ×
        // available / replicas`).
        let max = pass.rollout.canary().and_then(services).map_or(100, |(_, _, m)| m);
        let replicas = i64::from(pass.rollout.spec.effective_replicas().max(1));
        let carried = i64::from(max) * i64::from(available(stable)) / replicas;
        return (max - i32::try_from(carried).unwrap_or(max)).clamp(0, observed.max(0));
    }
    if pass.pause.is_aborted() || pass.sets.stable.is_none() || pass.sets.new_is_stable() {
        return 0;
    }
    let ready = pass
        .sets
        .new
        .is_some_and(|rs| available(rs) >= canary_replicas(pass, step_weight));
    if ready { step_weight } else { observed.min(step_weight) }
}

/// The routers' state after this pass, for the step logic and the status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Routed {
    /// The weight written (or already carried).
    pub weight: i32,
    /// The weight the routers carried before this pass.
    pub observed: i32,
    /// Whether every router object already carries it.
    pub verified: bool,
}

/// Plans the router writes. `step_weight` is the weight the steps ask for now.
pub fn plan(pass: &mut Pass<'_>, step_weight: i32) -> Option<Routed> {
    let spec = pass.rollout.canary()?;
    let (canary_service, stable_service, max_weight) = services(spec)?;
    let in_flight = !pass.pause.is_aborted() && pass.sets.stable.is_some() && !pass.sets.new_is_stable();
    let wanted = traffic::managed::wanted(pass.rollout, pass.old.current_step_index, in_flight);
    let probe = Split {
        canary_service,
        stable_service,
        canary_weight: 0,
        max_weight,
        pods: traffic::PodHashes {
            canary: pass.sets.new.and_then(hash_of),
            stable: pass.sets.stable.and_then(hash_of),
        },
        managed: &wanted,
    };
    let now_weight = observed(pass, &probe).unwrap_or(0);
    let weight = desired(pass, step_weight, now_weight);
    let split = Split {
        canary_weight: weight,
        ..probe
    };
    let mut wrote = false;
    for target in traffic::targets(pass.rollout) {
        // A router that cannot take the split was reported as InvalidSpec before this pass.
        if let Ok(Some(write)) = traffic::write(&target, pass.rollout, &pass.snap.routes, &split) {
            pass.plan
                .actions
                .push(Action::SetRouteWeights { target, write, weight });
            wrote = true;
        }
    }
    if wrote {
        pass.event(Event::normal(
            reason::TRAFFIC_WEIGHT_UPDATED,
            format!("Traffic weight updated from {now_weight} to {weight}"),
        ));
        // Routers are read from the API server, not watched: look again at once to verify.
        pass.plan.wake_at(pass.snap.now + SignedDuration::from_millis(200));
    }
    Some(Routed {
        weight,
        observed: now_weight,
        verified: !wrote && now_weight == weight,
    })
}

/// `status.canary.weights` for the routers' state.
#[must_use]
pub fn weights(pass: &Pass<'_>, routed: Routed) -> Option<TrafficWeights> {
    let (canary_service, stable_service, max) = services(pass.rollout.canary()?)?;
    let hash = |rs: Option<&ReplicaSet>| rs.and_then(hash_of).map(str::to_owned);
    Some(TrafficWeights {
        canary: WeightDestination {
            weight: routed.weight,
            service_name: Some(canary_service.to_owned()).filter(|s| !s.is_empty()),
            pod_template_hash: hash(pass.sets.new),
        },
        stable: WeightDestination {
            weight: max - routed.weight,
            service_name: Some(stable_service.to_owned()).filter(|s| !s.is_empty()),
            pod_template_hash: hash(pass.sets.stable),
        },
        additional: Vec::new(),
        verified: Some(routed.verified),
    })
}

/// Scales a routed canary: older ReplicaSets after their delay, stable at full size, the canary by
/// weight. Returns whether anything was scaled.
pub fn scale_replicasets(pass: &mut Pass<'_>, step_weight: i32, routed: Routed) -> bool {
    let replicas = pass.rollout.spec.effective_replicas();
    let spec = pass.rollout.canary().cloned().unwrap_or_default();
    let mut scaled = scale_down_older(pass, spec.scale_down_delay_seconds.unwrap_or(DEFAULT_DELAY));
    let stable = if pass.sets.new_is_stable() {
        None
    } else {
        pass.sets.stable
    };
    let dynamic = spec.dynamic_stable_scale == Some(true);
    if let Some(rs) = stable {
        let target = if dynamic {
            let wanted = if pass.pause.is_aborted() { 0 } else { step_weight };
            stable_replicas(pass, wanted, routed.observed)
        } else {
            replicas
        };
        scaled |= scale(pass, rs, target);
    }
    let target = if pass.sets.stable.is_none() || pass.sets.new_is_stable() {
        replicas
    } else if pass.pause.is_aborted() && dynamic {
        for_weight(pass, routed.observed)
    } else if pass.pause.is_aborted() {
        after_abort(pass, &spec, routed)
    } else {
        canary_replicas(pass, step_weight)
    };
    match pass.sets.new {
        Some(rs) => {
            if pass.sets.new_is_stable() && scale_down_deadline(rs).is_some() {
                annotate_deadline(pass, rs, None);
            }
            scaled |= scale(pass, rs, target);
        }
        None => {
            size_new(pass, target);
            scaled = true;
        }
    }
    scaled
}

/// `ceil(replicas × weight / maxTrafficWeight)`.
fn for_weight(pass: &Pass<'_>, weight: i32) -> i32 {
    let replicas = i64::from(pass.rollout.spec.effective_replicas());
    let max = pass
        .rollout
        .canary()
        .and_then(services)
        .map_or(100, |(_, _, max)| max)
        .max(1);
    let (n, d) = (replicas * i64::from(weight.clamp(0, max)), i64::from(max));
    i32::try_from((n + d - 1) / d).unwrap_or(0)
}

/// The stable ReplicaSet with `dynamicStableScale` (Argo's `CalculateReplicaCountsForTrafficRoutedCanary`):
/// enough pods for the larger of the stable weight the steps want (all of it on abort) and the
/// one carried now.
fn stable_replicas(pass: &Pass<'_>, canary_wanted: i32, canary_observed: i32) -> i32 {
    let max = pass.rollout.canary().and_then(services).map_or(100, |(_, _, max)| max);
    for_weight(pass, max - canary_wanted).max(for_weight(pass, max - canary_observed))
}

/// The canary's size after an abort: unchanged until the routers carry 0 and the delay passed.
fn after_abort(pass: &mut Pass<'_>, spec: &CanaryStrategy, routed: Routed) -> i32 {
    let current = pass.sets.new.map_or(0, spec_replicas);
    let delay = spec.abort_scale_down_delay_seconds.unwrap_or(DEFAULT_DELAY);
    if !(routed.weight == 0 && routed.verified) || delay == 0 {
        return current;
    }
    let since = pass.old.aborted_at.as_ref().map_or(pass.snap.now, |t| t.0);
    let at = since + SignedDuration::from_secs(i64::from(delay));
    if pass.snap.now >= at {
        0
    } else {
        pass.plan.wake_at(at);
        current
    }
}

/// Older ReplicaSets (a previous stable among them) go to 0 once `delay` seconds passed since
/// they stopped being stable; the deadline is kept in their annotation.
fn scale_down_older(pass: &mut Pass<'_>, delay: i32) -> bool {
    let older: Vec<&ReplicaSet> = pass
        .sets
        .older
        .iter()
        .copied()
        .filter(|rs| spec_replicas(rs) > 0)
        .collect();
    let mut scaled = false;
    for rs in older {
        match scale_down_deadline(rs) {
            _ if delay <= 0 => scaled |= scale(pass, rs, 0),
            Some(at) if pass.snap.now >= at => scaled |= scale(pass, rs, 0),
            Some(at) => pass.plan.wake_at(at),
            None => {
                let at = pass.snap.now + SignedDuration::from_secs(i64::from(delay));
                annotate_deadline(pass, rs, Some(at));
                pass.plan.wake_at(at);
            }
        }
    }
    scaled
}

/// Whether a routed `setWeight` / `setCanaryScale` step is done: the canary has its pods and the
/// routers carry the weight.
#[must_use]
pub fn step_reached(pass: &Pass<'_>, step_weight: i32, routed: Routed) -> bool {
    let Some(new) = pass.sets.new else { return false };
    available(new) >= canary_replicas(pass, step_weight) && routed.weight == step_weight && routed.verified
}
