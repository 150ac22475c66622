//! `Application`, `AppProject` and `ApplicationSet` (`argoproj.io/v1alpha1`), schema-compatible with Argo CD.

mod application;
mod application_status;
mod applicationset;
mod appproject;
mod operation;

pub use application::*;
pub use application_status::*;
pub use applicationset::*;
pub use appproject::*;
pub use operation::*;
