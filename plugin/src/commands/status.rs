//! `status NAME [-w] [-t TIMEOUT]`: prints "phase - message" whenever it changes; exit 0 when
//! Healthy, 1 with the message when Degraded or at the timeout. A Paused rollout keeps it waiting.

use crds::Rollout;
use crds::rollout::RolloutPhase;
use futures::StreamExt;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use plugin::view::{RolloutState, rollout_status};

use super::get::print_as;
use super::objects;
use crate::cli::Output;
use crate::cluster::CliError;

/// What a status line says, and whether it is final.
fn line(rollout: &Rollout) -> (String, Option<Result<(), CliError>>) {
    let name = rollout.metadata.name.clone().unwrap_or_default();
    let RolloutState { phase, message, .. } = rollout_status(rollout);
    let text = if message.is_empty() {
        phase.clone()
    } else {
        format!("{phase} - {message}")
    };
    let done = if phase == RolloutPhase::Healthy.as_str() {
        Some(Ok(()))
    } else if phase == RolloutPhase::Degraded.as_str() {
        Some(Err(CliError::Degraded { name, message }))
    } else {
        None
    };
    (text, done)
}

/// Runs `status`.
///
/// # Errors
/// Degraded, timeout, not found, API failures.
pub async fn run(
    client: &Client,
    namespace: &str,
    name: &str,
    watch: bool,
    timeout: Option<&str>,
    output: Option<Output>,
) -> Result<(), CliError> {
    let rollout = objects::rollout(client, namespace, name).await?;
    if let Some(output) = output {
        return print_as(&rollout, output);
    }
    let (text, done) = line(&rollout);
    println!("{text}");
    if let Some(done) = done {
        return done;
    }
    if !watch {
        return Ok(());
    }
    let limit = match timeout {
        Some(t) => Some(
            crds::duration::parse(t)
                .ok()
                .and_then(crds::duration::Duration::to_std)
                .ok_or_else(|| CliError::Other(format!("invalid timeout '{t}'")))?,
        ),
        None => None,
    };
    let api: Api<Rollout> = Api::namespaced(client.clone(), namespace);
    let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
    let mut stream = Box::pin(watcher(api, config).default_backoff().applied_objects());
    let mut last = text;
    let expired = plugin::expiry::expiry(limit);
    tokio::pin!(expired);
    loop {
        let next = async {
            tokio::select! {
                () = &mut expired => None,
                event = stream.next() => Some(event),
            }
        };
        let Some(event) = next.await else {
            let current = objects::rollout(client, namespace, name).await?;
            let RolloutState { phase, message, .. } = rollout_status(&current);
            return Err(CliError::Timeout {
                name: name.to_string(),
                phase,
                timeout: timeout.unwrap_or_default().to_string(),
                message,
            });
        };
        let Some(Ok(rollout)) = event else { continue };
        let (text, done) = line(&rollout);
        if text != last {
            println!("{text}");
            last = text;
        }
        if let Some(done) = done {
            return done;
        }
    }
}
