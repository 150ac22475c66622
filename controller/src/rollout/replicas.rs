//! Replica arithmetic of a canary without traffic routing (Argo's `replicasetutil.CalculateReplicaCountsForBasicCanary`, `utils/replicaset/canary.go`): how many pods the new and
//! the stable ReplicaSet get for a weight, and how fast they may get there under maxSurge and
//! maxUnavailable.

use crds::defaults::{NotAnInteger, scaled_int_or_percent};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// What the arithmetic needs to know of one ReplicaSet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// `spec.replicas`.
    pub spec: i32,
    /// `status.availableReplicas`.
    pub available: i32,
}

/// Surge and unavailability resolved against the replica count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Pods allowed above `replicas`.
    pub max_surge: i32,
    /// Pods allowed to be unavailable.
    pub max_unavailable: i32,
}

impl Budget {
    /// Resolves maxSurge (rounded up) and maxUnavailable (rounded down) as Argo does: strings are
    /// always percentages; when both come to 0, one pod may be unavailable.
    ///
    /// # Errors
    /// A value that is neither a number nor a percentage.
    pub fn resolve(replicas: i32, surge: &IntOrString, unavailable: &IntOrString) -> Result<Self, NotAnInteger> {
        let max_surge = scaled_int_or_percent("maxSurge", surge, replicas, true)?;
        let mut max_unavailable = scaled_int_or_percent("maxUnavailable", unavailable, replicas, false)?;
        if max_surge == 0 && max_unavailable == 0 {
            max_unavailable = 1;
        }
        Ok(Self {
            max_surge,
            max_unavailable: max_unavailable.min(replicas),
        })
    }
}

/// The (canary, stable) split closest to `weight` percent of `replicas`, allowing one extra pod when
/// surge is possible. Between 1 and 99 percent neither side is left empty when another option
/// allows it; a tie goes to the larger canary.
#[must_use]
pub fn ideal_split(replicas: i32, weight: i32, surge: bool) -> (i32, i32) {
    if replicas <= 0 {
        return (0, 0);
    }
    let weight = weight.clamp(0, 100);
    if weight == 0 {
        return (0, replicas);
    }
    if weight == 100 {
        return (replicas, 0);
    }
    let exact = i64::from(replicas) * i64::from(weight);
    let floor = i32::try_from(exact / 100).unwrap_or(replicas);
    let ceil = i32::try_from((exact + 99) / 100).unwrap_or(replicas);
    let mut options = vec![(ceil, replicas), (floor, replicas)];
    if surge {
        options.extend([(ceil, replicas + 1), (floor, replicas + 1)]);
    }
    let both_sides: Vec<(i32, i32)> = options.iter().copied().filter(|(c, t)| *c > 0 && t - c > 0).collect();
    if !both_sides.is_empty() {
        options = both_sides;
    }
    // Distance to the weight, compared exactly: |canary/total - weight/100| scaled by 100·total.
    let distance = |(canary, total): (i32, i32)| -> f64 {
        (f64::from(canary) / f64::from(total) - f64::from(weight) / 100.0).abs()
    };
    let mut best = options[0];
    for option in options.into_iter().skip(1) {
        let (d, b) = (distance(option), distance(best));
        if d < b - 1e-12 || ((d - b).abs() <= 1e-12 && option.0 > best.0) {
            best = option;
        }
    }
    (best.0, best.1 - best.0)
}

/// Everything the scaling decision of a basic canary looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CanaryScale {
    /// `spec.replicas` of the Rollout.
    pub replicas: i32,
    /// The weight the current step asks for (0 when aborted, 100 when promoted).
    pub weight: i32,
    /// Resolved surge and unavailability.
    pub budget: Budget,
    /// The new ReplicaSet (spec 0 when it is about to be created).
    pub new: Counts,
    /// The stable ReplicaSet, when there is one distinct from the new one.
    pub stable: Option<Counts>,
    /// `spec.replicas` summed over older ReplicaSets (neither new nor stable).
    pub older: i32,
}

fn for_scale_down(rs: Option<Counts>, ignore_availability: bool) -> i32 {
    match rs {
        None => 0,
        Some(c) if ignore_availability => c.spec,
        Some(c) => c.available.min(c.spec),
    }
}

fn scaled_down(rs: Option<Counts>, desired: i32, budget: i32, current: i32) -> i32 {
    match rs {
        Some(c) if c.spec > desired => (c.spec - budget).max(desired),
        _ => current,
    }
}

/// Keeps the total within `max_total` (by holding back the side scaling up) and availability at
/// `min_available` (by keeping enough of the side scaling down).
fn within_limits(down: i32, up: i32, up_rs: Option<Counts>, max_total: i32, min_available: i32) -> (i32, i32) {
    let mut up = up;
    let mut down = down;
    if down + up > max_total {
        up = (max_total - down).max(up_rs.map_or(0, |c| c.spec.min(up)));
    }
    let up_available = up_rs.map_or(0, |c| c.available.min(up));
    if down + up_available < min_available {
        down = down.max(min_available - up_available);
    }
    (down, up)
}

/// The (new, stable) `spec.replicas` to set now: scale up within the surge (stable first), drain
/// older ReplicaSets before anything else is scaled down, then scale down within the availability
/// budget. While the canary grows the stable side is counted by its spec, so a stable version that
/// crash-loops cannot block a healthy canary.
#[must_use]
pub fn next_counts(s: &CanaryScale) -> (i32, i32) {
    let (desired_new, ideal_stable) = ideal_split(s.replicas, s.weight, s.budget.max_surge > 0);
    let desired_stable = if s.stable.is_some() { ideal_stable } else { 0 };
    let mut new = s.new.spec;
    let mut stable = s.stable.map_or(0, |c| c.spec);
    let max_total = s.replicas + s.budget.max_surge;
    let mut scale_up = max_total - (new + stable + s.older);
    if scale_up > 0 {
        if s.stable.is_some() && stable < desired_stable {
            let next = (stable + scale_up).min(desired_stable);
            scale_up -= next - stable;
            stable = next;
        }
        if new < desired_new && scale_up > 0 {
            new = (new + scale_up).min(desired_new);
        }
    }
    if s.older > 0 {
        return (new, stable);
    }
    let min_available = s.replicas - s.budget.max_unavailable;
    let increasing = desired_new >= s.new.spec;
    let countable = for_scale_down(Some(s.new), !increasing) + for_scale_down(s.stable, increasing);
    if countable <= min_available {
        return (new, stable);
    }
    let budget = countable - min_available;
    if increasing {
        stable = scaled_down(s.stable, desired_stable, budget, stable);
        let (down, up) = within_limits(stable, new, Some(s.new), max_total, min_available);
        (up, down)
    } else {
        new = scaled_down(Some(s.new), desired_new, budget, new);
        let (down, up) = within_limits(new, stable, s.stable, max_total, min_available);
        (down, up)
    }
}

/// Whether the ReplicaSets are where the weight wants them: the new one has its desired pods
/// available (or `threshold` of them), the stable one has exactly its desired pods, and no older
/// ReplicaSet has an available pod.
#[must_use]
pub fn at_desired_counts(
    replicas: i32,
    weight: i32,
    budget: Budget,
    new: Counts,
    stable: Option<(Counts, i32)>,
    older_available: i32,
    threshold: Option<i32>,
) -> bool {
    let (desired_new, desired_stable) = ideal_split(replicas, weight, budget.max_surge > 0);
    let needed = threshold.map_or(desired_new, |t| t.min(desired_new));
    if new.spec != desired_new || new.available < needed {
        return false;
    }
    if let Some((stable, status_replicas)) = stable
        && (stable.spec != desired_stable || status_replicas != desired_stable)
    {
        return false;
    }
    older_available == 0
}
