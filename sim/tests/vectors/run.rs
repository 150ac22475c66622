//! Running one vector against a server: a fresh namespace, the setup steps (with their codes and
//! waits), the check, the cleanup.

use std::time::Duration;

use serde_json::{Value, json};

use super::compare::{Answer, matches_until};
use super::{Vector, substitute};

/// Sends one step; the answer with its Warning headers.
pub async fn send(http: &reqwest::Client, base: &str, step: &Value) -> Answer {
    let method = reqwest::Method::from_bytes(step["method"].as_str().unwrap_or("GET").as_bytes())
        .unwrap_or(reqwest::Method::GET);
    let path = step["path"].as_str().unwrap_or_default();
    let mut request = http
        .request(method, format!("{base}{path}"))
        .header("Accept", "application/json")
        .header("User-Agent", "vectors/1.0");
    let body = match (&step["rawBody"], &step["body"]) {
        (Value::String(raw), _) => Some(raw.clone().into_bytes()),
        (_, Value::Null) => None,
        (_, body) => Some(serde_json::to_vec(body).unwrap_or_default()),
    };
    if let Some(body) = body {
        let content_type = step["contentType"].as_str().unwrap_or("application/json");
        request = request.header("Content-Type", content_type).body(body);
    }
    match request.send().await {
        Ok(response) => {
            let code = response.status().as_u16();
            let warnings = response
                .headers()
                .get_all("warning")
                .iter()
                .filter_map(|h| h.to_str().ok())
                .map(warning_text)
                .collect();
            let text = response.text().await.unwrap_or_default();
            Answer {
                code,
                json: serde_json::from_str(&text).ok(),
                text,
                warnings,
            }
        }
        Err(e) => Answer {
            code: 0,
            json: None,
            text: format!("request failed: {e}"),
            warnings: Vec::new(),
        },
    }
}

/// `299 - "text"` gives `text`, with `\"` and `\\` unescaped.
fn warning_text(header: &str) -> String {
    let quoted = header.split_once('"').map_or(header, |(_, rest)| rest);
    let quoted = quoted.strip_suffix('"').unwrap_or(quoted);
    quoted.replace("\\\"", "\"").replace("\\\\", "\\")
}

/// Runs `vector` in namespace `ns`: the check's answer and the resourceVersion of the last setup
/// step without `until`, or why a setup step failed.
pub async fn run(
    http: &reqwest::Client,
    base: &str,
    vector: &Vector,
    ns: &str,
) -> Result<(Answer, Option<String>), String> {
    let namespace = json!({"method": "POST", "path": "/api/v1/namespaces",
        "body": {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}});
    let created = send(http, base, &namespace).await;
    if created.code != 201 {
        return Err(format!(
            "creating the namespace answered {}: {}",
            created.code, created.text
        ));
    }
    let mut last_rv = None;
    for (i, step) in vector.setup.iter().enumerate() {
        let step = substitute(step, ns);
        if step.get("until").is_some() {
            wait(http, base, &step)
                .await
                .map_err(|e| format!("setup step {i}: {e}"))?;
        } else {
            let answer = send(http, base, &step).await;
            if let Some(code) = step["code"].as_u64()
                && u64::from(answer.code) != code
            {
                return Err(format!(
                    "setup step {i} ({} {}) answered {}, the real server {code}: {}",
                    step["method"].as_str().unwrap_or_default(),
                    step["path"].as_str().unwrap_or_default(),
                    answer.code,
                    answer.text.chars().take(400).collect::<String>()
                ));
            }
            last_rv = answer
                .json
                .as_ref()
                .and_then(|j| j.pointer("/metadata/resourceVersion"))
                .and_then(Value::as_str)
                .map(str::to_owned);
        }
        if let Some(seconds) = step["sleep"].as_f64() {
            tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
        }
    }
    let answer = send(http, base, &substitute(&vector.check, ns)).await;
    for step in &vector.cleanup {
        let _ = send(http, base, &substitute(step, ns)).await;
    }
    let delete = json!({"method": "DELETE", "path": format!("/api/v1/namespaces/{ns}")});
    let _ = send(http, base, &delete).await;
    Ok((answer, last_rv))
}

async fn wait(http: &reqwest::Client, base: &str, step: &Value) -> Result<(), String> {
    let timeout = Duration::from_secs_f64(step["timeout"].as_f64().unwrap_or(30.0));
    let deadline = crds::clock::stopwatch() + timeout;
    loop {
        let answer = send(http, base, step).await;
        if matches_until(&step["until"], &answer) {
            return Ok(());
        }
        if crds::clock::stopwatch() >= deadline {
            return Err(format!(
                "{} {} never matched {} in {timeout:?}; last answer {}: {}",
                step["method"].as_str().unwrap_or_default(),
                step["path"].as_str().unwrap_or_default(),
                step["until"],
                answer.code,
                answer.text.chars().take(300).collect::<String>()
            ));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
