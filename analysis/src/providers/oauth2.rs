//! OAuth2 client-credentials tokens, cached until shortly before they expire.

use std::collections::HashMap;

use crds::analysis::OAuth2Config;
use jiff::{SignedDuration, Timestamp};
use parking_lot::Mutex;

/// A token cache keyed by token URL and client ID.
#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    tokens: Mutex<HashMap<(String, String), (String, Timestamp)>>,
}

#[derive(serde::Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

impl TokenCache {
    /// A bearer token for `config`, fetched with the client-credentials grant when needed.
    ///
    /// # Errors
    /// A message with the token endpoint's answer.
    pub(crate) async fn token(
        &self,
        http: &reqwest::Client,
        config: &OAuth2Config,
        now: Timestamp,
    ) -> Result<String, String> {
        let token_url = config.token_url.clone().unwrap_or_default();
        let client_id = config.client_id.clone().unwrap_or_default();
        let key = (token_url.clone(), client_id.clone());
        if let Some((token, expires)) = self.tokens.lock().get(&key)
            && *expires > now
        {
            return Ok(token.clone());
        }
        let scopes = config.scopes.join(" ");
        let mut form = vec![
            ("grant_type", "client_credentials".to_string()),
            ("client_id", client_id),
            ("client_secret", config.client_secret.clone().unwrap_or_default()),
        ];
        if !scopes.is_empty() {
            form.push(("scope", scopes));
        }
        let response = http
            .post(&token_url)
            .form(&form)
            .send()
            .await
            .map_err(|e| format!("oauth2 token request to {token_url} failed: {e}"))?;
        let status = response.status();
        let body = response.text().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!(
                "oauth2 token endpoint {token_url} answered {status}: {}",
                body.trim()
            ));
        }
        let parsed: TokenResponse =
            serde_json::from_str(&body).map_err(|e| format!("oauth2 token endpoint {token_url}: {e}"))?;
        let seconds = parsed.expires_in.unwrap_or(300).saturating_sub(30).max(1);
        let lifetime = SignedDuration::from_secs(i64::try_from(seconds).unwrap_or(i64::MAX));
        self.tokens.lock().insert(
            key,
            (parsed.access_token.clone(), now.saturating_add(lifetime).unwrap_or(now)),
        );
        Ok(parsed.access_token)
    }
}
