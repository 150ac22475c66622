//! Sluice's GitOps decisions as pure functions over Kubernetes objects as JSON: today the health
//! of a resource and of an application ([`health`]), the rules Argo CD users know. Nothing here
//! talks to a cluster or to Git, and nothing runs asynchronously (`cargo tree -p gitops -e normal`
//! shows no client, no runtime), so every rule is tested on data alone.

pub mod health;
