//! Git and rendering for Sluice's GitOps half, with no Kubernetes in it: the credentials Argo CD's
//! repository Secrets describe ([`credentials`]), one bare cache per repository URL with
//! coalesced fetches and revision resolution ([`cache`]), what an ApplicationSet's Git generator reads ([`generator`]), the cheap change check (`ls-remote`,
//! [`remote`]), a private checkout per render ([`checkout`]) and the renderers of directories,
//! Kustomize and Helm ([`render`]) and reverting commits and pushing them ([`revert`]). Everything here is blocking (libgit2 and child processes); the
//! controller calls it from a blocking task.

pub mod cache;
pub mod checkout;
pub mod credentials;
pub mod error;
pub mod generator;
pub mod history;
pub mod remote;
pub mod render;
pub mod revert;
pub mod source;

pub use cache::RepoCache;
pub use credentials::Credentials;
pub use error::GitError;
