//! The scenarios, each returning its rows; [`Sizes`] is what `--quick` shrinks.

pub mod gitops;
pub mod rollouts;

/// How big each scenario is.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    /// Runs per figure (the median is reported).
    pub runs: usize,
    /// Resources of the big Application.
    pub resources: usize,
    /// Pushes measured per run.
    pub pushes: usize,
    /// Seconds an unchanged Application is watched.
    pub idle_seconds: u64,
    /// Elements of the ApplicationSet.
    pub elements: usize,
    /// Rollouts updated at once.
    pub rollouts: usize,
}

impl Sizes {
    /// The full run (the sizes the goals were set for).
    pub const FULL: Self = Self {
        runs: 3,
        resources: 1000,
        pushes: 20,
        idle_seconds: 10,
        elements: 500,
        rollouts: 100,
    };
    /// `--quick`: small sizes, one run.
    pub const QUICK: Self = Self {
        runs: 1,
        resources: 100,
        pushes: 5,
        idle_seconds: 3,
        elements: 50,
        rollouts: 20,
    };
}
