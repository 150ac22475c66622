//! Calling one webhook as kube-apiserver does: an `admission.k8s.io/v1` `AdmissionReview` POSTed
//! over HTTPS (the server's certificate checked against the configuration's `caBundle`) within
//! `timeoutSeconds`, and its answer read: allowed or not, and for mutating webhooks a JSONPatch.

use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

/// Why a call produced no usable answer (the failure policy decides what follows).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CallError(pub String);

/// A webhook's verdict.
#[derive(Debug)]
pub struct Verdict {
    /// Whether the request may go on.
    pub allowed: bool,
    /// The webhook's status (code, message, reason) when it refused.
    pub status: Value,
    /// The JSONPatch it returned (mutating webhooks).
    pub patch: Option<json_patch::Patch>,
}

/// The URL the webhook is reached at: `clientConfig.url`, or its `service` resolved by `resolve`.
pub fn url(client_config: &Value, resolve: impl Fn(&str, &str) -> Option<String>) -> Result<String, CallError> {
    if let Some(url) = client_config.get("url").and_then(Value::as_str) {
        return Ok(url.to_owned());
    }
    let service = client_config
        .get("service")
        .ok_or_else(|| CallError("the webhook has neither clientConfig.url nor clientConfig.service".into()))?;
    let namespace = service.get("namespace").and_then(Value::as_str).unwrap_or_default();
    let name = service.get("name").and_then(Value::as_str).unwrap_or_default();
    let path = service.get("path").and_then(Value::as_str).unwrap_or("");
    let base = resolve(namespace, name).ok_or_else(|| {
        CallError(format!(
            "service \"{name}\" in namespace \"{namespace}\" is not routed to a URL in the simulator"
        ))
    })?;
    Ok(format!("{}{path}", base.trim_end_matches('/')))
}

fn client(ca_bundle: Option<&str>, timeout: Duration) -> Result<reqwest::Client, CallError> {
    crate::tls::ensure_crypto_provider();
    let mut builder = reqwest::Client::builder().timeout(timeout);
    if let Some(bundle) = ca_bundle.filter(|b| !b.is_empty()) {
        let pem = base64::engine::general_purpose::STANDARD
            .decode(bundle)
            .map_err(|e| CallError(format!("caBundle is not base64: {e}")))?;
        let certificate = reqwest::Certificate::from_pem(&pem)
            .map_err(|e| CallError(format!("caBundle is not a PEM certificate: {e}")))?;
        builder = builder.tls_certs_only([certificate]);
    }
    builder
        .build()
        .map_err(|e| CallError(format!("cannot build a client: {e}")))
}

/// Sends `review` to the webhook and reads its verdict.
///
/// # Errors
/// Unreachable, timed out, not 200, or an answer that is not an AdmissionReview for this request.
pub async fn call(webhook: &Value, url: &str, review: &Value, uid: &str) -> Result<Verdict, CallError> {
    let config = webhook.get("clientConfig").cloned().unwrap_or(Value::Null);
    let seconds = webhook
        .get("timeoutSeconds")
        .and_then(Value::as_u64)
        .unwrap_or(10)
        .clamp(1, 30);
    let client = client(
        config.get("caBundle").and_then(Value::as_str),
        Duration::from_secs(seconds),
    )?;
    let target = format!("{url}{}timeout={seconds}s", if url.contains('?') { '&' } else { '?' });
    let response = client.post(&target).json(review).send().await.map_err(|e| {
        CallError(format!(
            "failed to call webhook: Post \"{target}\": {}",
            crds::errors::chain(&e)
        ))
    })?;
    let code = response.status();
    let body: Value = response
        .json()
        .await
        .map_err(|e| CallError(format!("failed to call webhook: the answer is not JSON: {e}")))?;
    if !code.is_success() {
        return Err(CallError(format!("failed to call webhook: the server answered {code}")));
    }
    let answer = body
        .get("response")
        .ok_or_else(|| CallError("the AdmissionReview answer has no response".into()))?;
    if answer.get("uid").and_then(Value::as_str) != Some(uid) {
        return Err(CallError(format!("expected response.uid=\"{uid}\"")));
    }
    let patch = match answer.get("patch").and_then(Value::as_str) {
        None => None,
        Some(encoded) => {
            if answer.get("patchType").and_then(Value::as_str) != Some("JSONPatch") {
                return Err(CallError("patchType must be JSONPatch".into()));
            }
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map_err(|e| CallError(format!("the patch is not base64: {e}")))?;
            Some(serde_json::from_slice(&bytes).map_err(|e| CallError(format!("the patch is not a JSONPatch: {e}")))?)
        }
    };
    Ok(Verdict {
        allowed: answer.get("allowed").and_then(Value::as_bool).unwrap_or(false),
        status: answer.get("status").cloned().unwrap_or_else(|| json!({})),
        patch,
    })
}
