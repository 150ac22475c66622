//! The scenarios, each returning its rows; [`Sizes`] is what `--quick` shrinks.

pub mod analysis;
pub mod gitops;
pub mod memory;
pub mod plugin;
pub mod reverts;
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
    /// Runs of the Rollout group (each is minutes at full size).
    pub rollout_runs: usize,
    /// Seconds the Healthy Rollouts are watched idle.
    pub rollout_idle_seconds: u64,
    /// Bad commits reverted per run.
    pub reverts: usize,
    /// AnalysisRuns created at once.
    pub analysis_runs: usize,
    /// Rollouts held in memory (with twice as many ReplicaSets).
    pub memory_rollouts: usize,
    /// Applications held in memory.
    pub memory_apps: usize,
    /// ConfigMaps of each of them.
    pub memory_resources_each: usize,
}

impl Sizes {
    /// The full run (the sizes the goals were set for).
    pub const FULL: Self = Self {
        runs: 3,
        resources: 1000,
        pushes: 20,
        idle_seconds: 10,
        elements: 500,
        rollouts: 1000,
        rollout_runs: 2,
        rollout_idle_seconds: 60,
        reverts: 10,
        analysis_runs: 1000,
        memory_rollouts: 10_000,
        memory_apps: 100,
        memory_resources_each: 50,
    };
    /// `--quick`: small sizes, one run.
    pub const QUICK: Self = Self {
        runs: 1,
        resources: 100,
        pushes: 5,
        idle_seconds: 3,
        elements: 50,
        rollouts: 20,
        rollout_runs: 1,
        rollout_idle_seconds: 3,
        reverts: 2,
        analysis_runs: 50,
        memory_rollouts: 200,
        memory_apps: 10,
        memory_resources_each: 10,
    };
}

/// How often a scenario lists `n` objects to see whether they are done: a list of a thousand
/// objects costs the simulator (and so the figure) more than the second it may add.
pub fn poll_every(n: usize) -> std::time::Duration {
    std::time::Duration::from_millis(if n > 200 { 1000 } else { 200 })
}

/// The scenario groups in the order they run.
pub const GROUPS: [&str; 6] = ["gitops", "rollouts", "reverts", "analysis", "memory", "plugin"];

/// Runs the groups named in `only` (every group when empty), in [`GROUPS`] order.
pub async fn run(sizes: Sizes, only: &[String]) -> Vec<crate::table::Row> {
    let mut rows = Vec::new();
    for group in GROUPS {
        if !only.is_empty() && !only.iter().any(|o| o == group) {
            continue;
        }
        rows.extend(match group {
            "gitops" => gitops::rows(sizes).await,
            "rollouts" => rollouts::rows(sizes).await,
            "reverts" => reverts::rows(sizes).await,
            "analysis" => analysis::rows(sizes).await,
            "memory" => memory::rows(sizes).await,
            _ => plugin::rows(sizes).await,
        });
    }
    rows
}
