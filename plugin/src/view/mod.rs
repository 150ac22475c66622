//! What `get rollout` shows, as pure functions: the objects of one Rollout in, a [`View`] (header
//! plus tree) out, then rendered to lines. `get rollout -w`, `sluice demo` and the snapshot tests
//! all use it.

mod build;
mod render;
mod status;

pub use build::{Inputs, build};
pub use render::render;
pub use status::{Icon, rollout_status};

/// The header of a Rollout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// Status icon, phase and message.
    pub status: (Icon, String, String),
    /// `Canary` or `BlueGreen`.
    pub strategy: &'static str,
    /// Canary: (current step, step count).
    pub step: Option<(i32, i32)>,
    /// Canary: the weight the current step asks for.
    pub set_weight: Option<i32>,
    /// Canary: the share of available pods running the new version.
    pub actual_weight: Option<i32>,
    /// Images, each with its roles (stable, canary, active, preview).
    pub images: Vec<(String, Vec<&'static str>)>,
    /// Desired, current, updated, ready, available.
    pub replicas: [i32; 5],
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
    pub status: Option<(Icon, String)>,
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
