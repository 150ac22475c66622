//! A Kubernetes client for a cluster Secret (`argocd.argoproj.io/secret-type: cluster`), from
//! Argo CD's `config` JSON: `bearerToken`, or `username`/`password`, and `tlsClientConfig`
//! (`insecure`, `serverName`, `caData`, `certData`, `keyData`, base64 PEM as in a kubeconfig).
//! The credentials go into an in-memory kubeconfig and never into a message: a `config` that does
//! not parse is reported by line and column only.

use k8s_openapi::api::core::v1::Secret;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClusterConfig {
    #[serde(default)]
    bearer_token: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    tls_client_config: Option<TlsConfig>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TlsConfig {
    #[serde(default)]
    insecure: bool,
    #[serde(default)]
    server_name: Option<String>,
    #[serde(default)]
    ca_data: Option<String>,
    #[serde(default)]
    cert_data: Option<String>,
    #[serde(default)]
    key_data: Option<String>,
}

fn data(secret: &Secret, key: &str) -> Option<String> {
    crds::secrets::text(secret, key)
}

/// The kubeconfig (as JSON) that reaches the cluster `secret` declares.
///
/// # Errors
/// No `server`, or a `config` that does not parse (by position, never by content).
pub fn kubeconfig(secret: &Secret) -> Result<Value, String> {
    let name = secret.metadata.name.clone().unwrap_or_default();
    let server = data(secret, "server")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("cluster Secret {name}: data.server is missing"))?;
    let config: ClusterConfig = match data(secret, "config").filter(|c| !c.trim().is_empty()) {
        None => ClusterConfig::default(),
        Some(text) => serde_json::from_str(&text).map_err(|e| {
            format!(
                "cluster Secret {name}: data.config does not parse (line {}, column {})",
                e.line(),
                e.column()
            )
        })?,
    };
    let tls = config.tls_client_config.unwrap_or_default();
    let mut cluster = json!({"server": server});
    if tls.insecure {
        cluster["insecure-skip-tls-verify"] = Value::Bool(true);
    }
    if let Some(ca) = tls.ca_data {
        cluster["certificate-authority-data"] = Value::from(ca);
    }
    if let Some(server_name) = tls.server_name {
        cluster["tls-server-name"] = Value::from(server_name);
    }
    let mut user = json!({});
    if let Some(token) = config.bearer_token {
        user["token"] = Value::from(token);
    }
    if let Some(username) = config.username {
        user["username"] = Value::from(username);
    }
    if let Some(password) = config.password {
        user["password"] = Value::from(password);
    }
    if let Some(cert) = tls.cert_data {
        user["client-certificate-data"] = Value::from(cert);
    }
    if let Some(key) = tls.key_data {
        user["client-key-data"] = Value::from(key);
    }
    Ok(json!({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "cluster", "cluster": cluster}],
        "users": [{"name": "sluice", "user": user}],
        "contexts": [{"name": "cluster", "context": {"cluster": "cluster", "user": "sluice"}}],
        "current-context": "cluster",
    }))
}

/// A client of the cluster `secret` declares.
///
/// # Errors
/// What [`kubeconfig`] refuses, or a kubeconfig the client cannot use (a bad certificate).
pub async fn client(secret: &Secret) -> Result<kube::Client, String> {
    let name = secret.metadata.name.clone().unwrap_or_default();
    let kubeconfig: kube::config::Kubeconfig = serde_json::from_value(kubeconfig(secret)?)
        .map_err(|_| format!("cluster Secret {name}: the config is not a usable kubeconfig"))?;
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &kube::config::KubeConfigOptions::default())
        .await
        .map_err(|e| format!("cluster Secret {name}: {e}"))?;
    kube::Client::try_from(config).map_err(|e| format!("cluster Secret {name}: {e}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn secret(config: &str) -> Secret {
        serde_json::from_value(json!({"metadata": {"name": "cluster-prod"},
            "stringData": {"name": "prod", "server": "https://prod.example:6443", "config": config}}))
        .unwrap()
    }

    #[test]
    fn argo_cd_cluster_config_becomes_a_kubeconfig() {
        let config = r#"{"bearerToken": "s3cr3t", "tlsClientConfig": {"insecure": false, "caData": "Q0E=", "serverName": "prod"}}"#;
        let kubeconfig = kubeconfig(&secret(config)).unwrap();
        assert_eq!(
            kubeconfig["clusters"][0]["cluster"]["server"],
            "https://prod.example:6443"
        );
        assert_eq!(
            kubeconfig["clusters"][0]["cluster"]["certificate-authority-data"],
            "Q0E="
        );
        assert_eq!(kubeconfig["clusters"][0]["cluster"]["tls-server-name"], "prod");
        assert_eq!(kubeconfig["users"][0]["user"]["token"], "s3cr3t");
        let parsed: kube::config::Kubeconfig = serde_json::from_value(kubeconfig).unwrap();
        assert_eq!(parsed.current_context.as_deref(), Some("cluster"));
    }

    #[test]
    fn a_config_that_does_not_parse_is_named_without_its_content() {
        let error = kubeconfig(&secret(r#"{"bearerToken": "s3cr3t""#)).unwrap_err();
        assert!(
            error.starts_with("cluster Secret cluster-prod: data.config does not parse (line 1"),
            "{error}"
        );
        assert!(!error.contains("s3cr3t"));
    }
}
