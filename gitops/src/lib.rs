//! Sluice's GitOps decisions as pure functions over Kubernetes objects as JSON, with the rules Argo
//! CD users know: whether a live resource is what Git declares ([`diff`]), the health of a resource and of an application ([`health`]), what a project
//! allows ([`project`]), which Application a resource belongs to ([`tracking`]), the plan of a
//! sync ([`sync`]), the Applications an ApplicationSet generates ([`appset`]) and which replica
//! manages an Application ([`shard`]). Nothing here
//! talks to a cluster or to Git, and nothing runs asynchronously (`cargo tree -p gitops -e normal`
//! shows no client, no runtime), so every rule is tested on data alone.

pub mod appset;
pub mod diff;
pub mod health;
pub mod project;
pub mod revert;
pub mod shard;
pub mod sync;
pub mod tracking;
pub mod webhook;
