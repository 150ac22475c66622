//! What `get rollout` shows, as pure functions: the objects of one Rollout in, a [`View`] (header
//! plus tree) out, then rendered to lines. `get rollout -w`, `sluice demo` and the snapshot tests
//! all use it.

pub mod age;
mod build;
mod render;
mod status;

pub use build::{Inputs, build};
pub use render::render;
pub use status::{Badge, Icon, RolloutState, rollout_status};

/// Where a canary is in its steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepProgress {
    /// The current step index (the step count once all are done).
    pub index: i32,
    /// How many steps there are.
    pub count: i32,
}

/// An image and the roles of the ReplicaSets running it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    /// The image (several containers' images joined by commas).
    pub image: String,
    /// stable, canary, active, preview.
    pub roles: Vec<&'static str>,
}

/// A Rollout's replica counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Replicas {
    /// `spec.replicas`.
    pub desired: i32,
    /// Pods that exist.
    pub current: i32,
    /// Pods of the new version.
    pub updated: i32,
    /// Ready pods.
    pub ready: i32,
    /// Available pods.
    pub available: i32,
}

/// The header of a Rollout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// Status icon, phase and message.
    pub status: RolloutState,
    /// `Canary` or `BlueGreen`.
    pub strategy: &'static str,
    /// Canary: the current step of how many.
    pub step: Option<StepProgress>,
    /// Canary: the weight the current step asks for.
    pub set_weight: Option<i32>,
    /// Canary: the router's weight with traffic routing, else the share of available pods
    /// running the new version.
    pub actual_weight: Option<i32>,
    /// Canary with traffic routing: the router objects, and whether they carry the weight.
    pub router: Option<String>,
    /// Images, each with its roles.
    pub images: Vec<Image>,
    /// Replica counts.
    pub replicas: Replicas,
}

/// One line of the tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// Depth in the tree (0 for the Rollout).
    pub depth: usize,
    /// Whether it is the last child of its parent (for the tree lines).
    pub last: bool,
    /// Kind icon: ⟳ Rollout, # revision, ⧉ ReplicaSet, □ Pod, α AnalysisRun, μ metric.
    pub glyph: &'static str,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: &'static str,
    /// Status icon and text.
    pub status: Option<Badge>,
    /// Age.
    pub age: String,
    /// Extra information (role, ready pods, restarts, results).
    pub info: String,
}

/// The whole view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct View {
    /// The header.
    pub header: Header,
    /// The tree, in display order.
    pub tree: Vec<Node>,
}
