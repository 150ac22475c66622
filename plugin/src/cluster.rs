//! Talking to the cluster: the client from kubectl's flags, and errors turned into one clear line.

use std::io::IsTerminal as _;

use crate::cli::Global;

/// A failed command, printed as one line.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The object does not exist.
    #[error("{kind} '{name}' not found in namespace '{namespace}'")]
    NotFound {
        /// Kind.
        kind: &'static str,
        /// Name.
        name: String,
        /// Namespace.
        namespace: String,
    },
    /// RBAC refused.
    #[error("forbidden: cannot {verb} {resource} in namespace '{namespace}' ({message})")]
    Forbidden {
        /// The verb.
        verb: &'static str,
        /// The resource.
        resource: &'static str,
        /// Namespace.
        namespace: String,
        /// The API server's message.
        message: String,
    },
    /// No API server answered.
    #[error("no cluster reachable: {0}")]
    Unreachable(String),
    /// The kubeconfig could not be used.
    #[error("cannot use the kubeconfig: {0}")]
    Config(String),
    /// The command has nothing to do.
    #[error(transparent)]
    Refused(#[from] plugin::patches::Refusal),
    /// `status` gave up.
    #[error("rollout '{name}' is {phase} after {timeout}: {message}")]
    Timeout {
        /// Rollout.
        name: String,
        /// Phase when it gave up.
        phase: String,
        /// The timeout.
        timeout: String,
        /// Message.
        message: String,
    },
    /// `status` saw the Rollout Degraded.
    #[error("rollout '{name}' is Degraded: {message}")]
    Degraded {
        /// Rollout.
        name: String,
        /// Message.
        message: String,
    },
    /// Anything else, already worded.
    #[error("{0}")]
    Other(String),
    /// The command failed and has said why on standard output (`app diff` found differences).
    #[error("")]
    Silent,
}

/// What an API call was doing, to word its failure.
#[derive(Clone, Copy, Debug)]
pub struct Call<'a> {
    /// Verb (get, patch, list, create...).
    pub verb: &'static str,
    /// Resource (rollouts, rollouts/status...).
    pub resource: &'static str,
    /// Kind for not-found messages.
    pub kind: &'static str,
    /// Object name.
    pub name: &'a str,
    /// Namespace.
    pub namespace: &'a str,
}

impl Call<'_> {
    /// Words a client error.
    pub fn fail(self, error: kube::Error) -> CliError {
        match error {
            kube::Error::Api(status) if status.code == 404 => CliError::NotFound {
                kind: self.kind,
                name: self.name.to_string(),
                namespace: self.namespace.to_string(),
            },
            kube::Error::Api(status) if status.code == 403 => CliError::Forbidden {
                verb: self.verb,
                resource: self.resource,
                namespace: self.namespace.to_string(),
                message: status.message,
            },
            kube::Error::Api(status) => CliError::Other(format!(
                "cannot {} {} '{}': {} ({})",
                self.verb, self.resource, self.name, status.message, status.code
            )),
            other => CliError::Unreachable(crds::errors::chain(&other)),
        }
    }
}

/// A client and the namespace to work in, from kubectl's flags.
///
/// # Errors
/// [`CliError::Config`] when no kubeconfig can be used.
pub async fn connect(global: &Global) -> Result<(kube::Client, String), CliError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let options = kube::config::KubeConfigOptions {
        context: global.context.clone(),
        ..kube::config::KubeConfigOptions::default()
    };
    let kubeconfig = match &global.kubeconfig {
        Some(path) => {
            kube::config::Kubeconfig::read_from(path).map_err(|e| CliError::Config(crds::errors::chain(&e)))?
        }
        None => kube::config::Kubeconfig::read().map_err(|e| CliError::Config(crds::errors::chain(&e)))?,
    };
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|e| CliError::Config(crds::errors::chain(&e)))?;
    let namespace = global
        .namespace
        .clone()
        .unwrap_or_else(|| config.default_namespace.clone());
    let client = kube::Client::try_from(config).map_err(|e| CliError::Config(crds::errors::chain(&e)))?;
    Ok((client, namespace))
}

/// Whether to colour: a terminal, no `--no-color`, no `NO_COLOR`.
#[must_use]
pub fn colour(global: &Global) -> bool {
    !global.no_color && std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
}
