//! Sluice's API: the Argo-compatible resource types, their CRDs, defaults and validation.
//!
//! Everything here is pure: no client, no IO. Start with [`rollout::Rollout`],
//! [`analysis::AnalysisTemplate`] and [`gitops::Application`]; [`crdgen::render_all`] prints
//! the CRDs; each resource has a `validate()` in [`validation`]; [`defaults`] holds every default
//! value in one place.

pub mod analysis;
pub mod clock;
pub mod crdgen;
pub mod defaults;
pub mod duration;
pub mod errors;
pub mod events;
pub mod fields_v1;
pub mod gitops;
pub mod hash;
pub mod keys;
pub mod meta;
pub mod params;
pub mod rollout;
mod schema;
pub mod secrets;
pub mod validation;
pub mod yaml;

pub use analysis::{AnalysisRun, AnalysisTemplate, ClusterAnalysisTemplate};
pub use gitops::{AppProject, Application, ApplicationSet};
pub use rollout::Rollout;
