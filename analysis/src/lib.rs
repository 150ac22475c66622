//! Analysis: Argo's condition language, measurement assessment, metric providers, and the pure
//! AnalysisRun state machine the controller drives.

pub mod args;
pub mod assess;
pub mod condition;
pub mod providers;
pub mod run;
pub mod template;
