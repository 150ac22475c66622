//! Following the demo's Application: its sync and health (and the revision they concern) read
//! every 200 ms, kept for the live screen's last line, printed as a line of its own when the
//! output is not a terminal, and asked by the script ("synced to this commit yet?").

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crds::gitops::StoredApplication;
use kube::{Api, Client};

/// What the Application says now.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AppState {
    /// Synced, OutOfSync, Unknown.
    pub sync: String,
    /// Healthy, Progressing, Degraded...
    pub health: String,
    /// The revision compared.
    pub revision: String,
    /// The last operation's phase.
    pub operation: String,
    /// The last operation's message, shown when it failed.
    pub message: String,
    /// The last revision recorded Synced and Healthy (what a revert goes back to).
    pub known_good: String,
}

impl AppState {
    fn of(app: &StoredApplication) -> Self {
        let status = app.status.clone().unwrap_or_default();
        Self {
            sync: status.sync.as_ref().map(|s| s.status.clone()).unwrap_or_default(),
            health: status
                .health
                .as_ref()
                .and_then(|h| h.status.clone())
                .unwrap_or_default(),
            revision: status
                .sync
                .as_ref()
                .and_then(|s| s.revision.clone())
                .unwrap_or_default(),
            operation: status
                .operation_state
                .as_ref()
                .map(|o| o.phase.clone())
                .unwrap_or_default(),
            message: status.operation_state.and_then(|o| o.message).unwrap_or_default(),
            known_good: app
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(controller::application::decide::revert::HEALTHY_REVISION_ANNOTATION))
                .cloned()
                .unwrap_or_default(),
        }
    }

    /// One line: `Application api: Synced, Healthy at abc1234 (last sync Succeeded)`, with the
    /// operation's message when it failed or errored.
    #[must_use]
    pub fn line(&self) -> String {
        let why = if matches!(self.operation.as_str(), "Failed" | "Error") && !self.message.is_empty() {
            format!(": {}", self.message)
        } else {
            String::new()
        };
        format!(
            "Application api: {}, {} at {} (last sync {}{why})",
            if self.sync.is_empty() { "-" } else { &self.sync },
            if self.health.is_empty() { "-" } else { &self.health },
            &self.revision[..self.revision.len().min(7)],
            if self.operation.is_empty() {
                "-"
            } else {
                &self.operation
            },
        )
    }

    /// Synced to `sha` with its sync finished.
    #[must_use]
    pub fn synced_to(&self, sha: &str) -> bool {
        self.sync == "Synced" && self.revision == sha && self.operation == "Succeeded"
    }
}

/// The Application, followed in the background; stops on drop.
pub struct AppFollower {
    state: Arc<Mutex<AppState>>,
    synced: Arc<Mutex<Vec<(String, std::time::Instant)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl AppFollower {
    /// Follows Application `name` in `namespace`; prints each change when `print` is set.
    pub fn start(client: &Client, namespace: &str, name: &str, print: bool) -> Self {
        let api: Api<StoredApplication> = Api::namespaced(client.clone(), namespace);
        let state = Arc::new(Mutex::new(AppState::default()));
        let synced = Arc::new(Mutex::new(Vec::new()));
        let (shared, seen) = (state.clone(), synced.clone());
        let name = name.to_owned();
        let task = tokio::spawn(async move {
            loop {
                if let Ok(Some(app)) = api.get_opt(&name).await {
                    let now = AppState::of(&app);
                    let mut last = shared.lock().unwrap_or_else(PoisonError::into_inner);
                    if *last != now {
                        // The known-good revision alone changing says nothing new on screen.
                        if print && last.line() != now.line() {
                            println!("  {}", now.line());
                        }
                        if now.synced_to(&now.revision) {
                            let mut seen = seen.lock().unwrap_or_else(PoisonError::into_inner);
                            if !seen.iter().any(|(r, _)| *r == now.revision) {
                                seen.push((now.revision.clone(), crds::clock::stopwatch()));
                            }
                        }
                        *last = now;
                    }
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
        Self { state, synced, task }
    }

    /// A function giving the state's line, for the live screen.
    pub fn line_source(&self) -> impl Fn() -> String + Send + 'static {
        let state = self.state.clone();
        move || state.lock().unwrap_or_else(PoisonError::into_inner).line()
    }

    /// When the Application was first seen synced to `sha`.
    #[must_use]
    pub fn synced_at(&self, sha: &str) -> Option<std::time::Instant> {
        let seen = self.synced.lock().unwrap_or_else(PoisonError::into_inner);
        seen.iter().find(|(r, _)| r == sha).map(|(_, at)| *at)
    }

    /// The state now.
    #[must_use]
    pub fn now(&self) -> AppState {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Waits until `done` holds, or `limit` passes.
    pub async fn until(&self, limit: Duration, done: impl Fn(&AppState) -> bool) -> Option<AppState> {
        let deadline = tokio::time::Instant::from_std(crds::clock::stopwatch()) + limit;
        loop {
            let now = self.now();
            if done(&now) {
                return Some(now);
            }
            if tokio::time::Instant::from_std(crds::clock::stopwatch()) >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for AppFollower {
    fn drop(&mut self) {
        self.task.abort();
    }
}
