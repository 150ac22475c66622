//! The replica arithmetic of a basic canary against every vector of Argo's `CalculateReplicaCountsForBasicCanary` tests, and
//! the scaling sequences it produces.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use controller::rollout::replicas::{Budget, CanaryScale, Counts, at_desired_counts, ideal_split, next_counts};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// (replicas, weights, surge?, canary, stable), Argo's expected counts.
const VECTORS: &[(i32, &[i32], bool, i32, i32)] = &[
    (1, &[1, 10, 25, 49], false, 0, 1),
    (1, &[50, 75, 100], false, 1, 0),
    (1, &[1, 10, 50, 99], true, 1, 1),
    (2, &[1], false, 1, 1),
    (2, &[1], true, 1, 2),
    (2, &[99], true, 2, 1),
    (3, &[10, 25, 49], false, 1, 2),
    (3, &[50], false, 2, 1),
    (3, &[10], true, 1, 3),
    (3, &[33], true, 1, 2),
    (3, &[49], true, 2, 2),
    (10, &[1], false, 1, 9),
    (10, &[14], false, 1, 9),
    (10, &[15], false, 2, 8),
    (10, &[99], false, 9, 1),
    (10, &[1], true, 1, 10),
    (10, &[18], true, 2, 9),
    (10, &[20], true, 2, 8),
    (10, &[24], true, 3, 8),
    (10, &[99], true, 10, 1),
    (0, &[0, 10, 50, 100], true, 0, 0),
    (0, &[0, 10, 50, 100], false, 0, 0),
];

#[test]
fn ideal_split_matches_every_reference_vector() {
    for &(replicas, weights, surge, canary, stable) in VECTORS {
        for &weight in weights {
            assert_eq!(
                ideal_split(replicas, weight, surge),
                (canary, stable),
                "replicas {replicas}, weight {weight}, surge {surge}"
            );
        }
    }
}

fn pct(s: &str) -> IntOrString {
    IntOrString::String(s.into())
}

#[test]
fn budgets_follow_argo_percent_rules() {
    let cases = [
        (10, pct("25"), pct("25"), 3, 2),
        (10, pct("25%"), pct("25%"), 3, 2),
        (10, IntOrString::Int(0), IntOrString::Int(0), 0, 1),
        (1, pct("25"), pct("25"), 1, 0),
        (5, pct("3"), IntOrString::Int(1), 1, 1),
    ];
    for (replicas, surge, unavailable, max_surge, max_unavailable) in cases {
        assert_eq!(
            Budget::resolve(replicas, &surge, &unavailable).unwrap(),
            Budget {
                max_surge,
                max_unavailable
            },
            "{replicas} {surge:?} {unavailable:?}"
        );
    }
}

/// Plays passes of the arithmetic, pods becoming available between passes when `ready`.
fn play(mut s: CanaryScale, passes: usize, ready: impl Fn(&str) -> bool) -> Vec<(i32, i32)> {
    let mut seen = Vec::new();
    for _ in 0..passes {
        let (new, stable) = next_counts(&s);
        seen.push((new, stable));
        s.new = Counts {
            spec: new,
            available: if ready("new") { new } else { s.new.available.min(new) },
        };
        if let Some(st) = s.stable {
            s.stable = Some(Counts {
                spec: stable,
                available: if ready("stable") {
                    stable
                } else {
                    st.available.min(stable)
                },
            });
        }
        // Invariants: never beyond the surge, never below availability unless the stable side
        // was unavailable to begin with.
        let total = s.new.spec + s.stable.map_or(0, |c| c.spec);
        assert!(total <= s.replicas + s.budget.max_surge, "total {total} beyond surge");
    }
    seen
}

const DEFAULTS: Budget = Budget {
    max_surge: 3,
    max_unavailable: 2,
};

#[test]
fn the_worked_example_reaches_two_and_eight_and_the_step_completes() {
    let start = CanaryScale {
        replicas: 10,
        weight: 20,
        budget: DEFAULTS,
        new: Counts::default(),
        stable: Some(Counts {
            spec: 10,
            available: 10,
        }),
        older: 0,
    };
    let seen = play(start, 3, |_| true);
    assert_eq!(seen.last(), Some(&(2, 8)));
    assert!(at_desired_counts(
        10,
        20,
        DEFAULTS,
        Counts { spec: 2, available: 2 },
        Some((Counts { spec: 8, available: 8 }, 8)),
        0,
        None
    ));
    assert!(!at_desired_counts(
        10,
        20,
        DEFAULTS,
        Counts { spec: 2, available: 1 },
        Some((Counts { spec: 8, available: 8 }, 8)),
        0,
        None
    ));
    assert!(
        !at_desired_counts(
            10,
            20,
            DEFAULTS,
            Counts { spec: 2, available: 2 },
            Some((Counts { spec: 8, available: 8 }, 9)),
            0,
            None
        ),
        "a stable pod still terminating"
    );
    assert!(
        !at_desired_counts(
            10,
            20,
            DEFAULTS,
            Counts { spec: 2, available: 2 },
            Some((Counts { spec: 8, available: 8 }, 8)),
            1,
            None
        ),
        "an older pod still available"
    );
}

#[test]
fn a_crash_looping_stable_does_not_block_the_canary_growing() {
    // Stable has no available pod at all; the canary still reaches 100% as its own pods come up.
    let start = CanaryScale {
        replicas: 10,
        weight: 100,
        budget: DEFAULTS,
        new: Counts { spec: 2, available: 2 },
        stable: Some(Counts { spec: 8, available: 0 }),
        older: 0,
    };
    let seen = play(start, 8, |side| side == "new");
    assert_eq!(seen.last(), Some(&(10, 0)), "{seen:?}");
}

#[test]
fn an_abort_scales_the_canary_down_only_as_fast_as_stable_comes_back() {
    let start = CanaryScale {
        replicas: 10,
        weight: 0,
        budget: DEFAULTS,
        new: Counts { spec: 5, available: 5 },
        stable: Some(Counts { spec: 5, available: 5 }),
        older: 0,
    };
    let seen = play(start, 6, |_| true);
    assert_eq!(
        seen.first(),
        Some(&(3, 8)),
        "surge up stable, then drop the canary within unavailability"
    );
    assert_eq!(seen.last(), Some(&(0, 10)), "{seen:?}");
}

#[test]
fn older_replicasets_hold_back_any_scale_down_of_new_and_stable() {
    let s = CanaryScale {
        replicas: 10,
        weight: 20,
        budget: DEFAULTS,
        new: Counts { spec: 2, available: 2 },
        stable: Some(Counts {
            spec: 10,
            available: 10,
        }),
        older: 1,
    };
    assert_eq!(next_counts(&s), (2, 10));
}
