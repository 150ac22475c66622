//! Watches: a chunked stream of `{"type": ..., "object": ...}` lines, resumable from a
//! resourceVersion, with bookmarks, timeouts, and a 410 for watchers that fall too far behind.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;

use super::path::Target;
use super::selectors::{FieldSelector, LabelSelector};
use super::status::ApiError;
use super::store::WatchEvent;
use super::{App, Call, table};

/// Seconds between bookmarks when the client allows them.
const BOOKMARK_EVERY: Duration = Duration::from_secs(10);
/// A watch without `timeoutSeconds` ends after this long, as real servers end watches.
const DEFAULT_TIMEOUT_SECONDS: u64 = 1800;

struct Filter {
    target: Target,
    labels: LabelSelector,
    fields: FieldSelector,
    /// Send each object as a one-row Table (what `kubectl get -w` asks for).
    as_table: bool,
}

impl Filter {
    fn selects(&self, object: &Value) -> bool {
        self.labels.matches(object) && self.fields.matches(object)
    }

    /// The event type this watch reports for a change, if any. An object that starts or stops
    /// matching the selectors is reported as ADDED or DELETED, as kube-apiserver does.
    fn event_type(&self, event: &WatchEvent) -> Option<&'static str> {
        let ours = event.group == self.target.rt.group
            && event.plural == self.target.rt.plural
            && self.target.namespace.as_deref().is_none_or(|ns| ns == event.namespace);
        if !ours {
            return None;
        }
        let now = self.selects(&event.object);
        let before = event.previous.as_ref().map(|p| self.selects(p));
        match (event.event_type, before, now) {
            ("MODIFIED", Some(false), true) => Some("ADDED"),
            ("MODIFIED", Some(true), false) => Some("DELETED"),
            (kind, _, true) => Some(kind),
            _ => None,
        }
    }

    /// The watch line for an object.
    fn line(&self, event_type: &str, object: &Value) -> Value {
        let object = if self.as_table {
            table::render(&self.target.rt, std::slice::from_ref(object), 0)
        } else {
            object.clone()
        };
        json!({"type": event_type, "object": object})
    }

    fn bookmark(&self, rv: u64, initial_end: bool) -> Value {
        let mut metadata = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        json!({"type": "BOOKMARK", "object": {"kind": self.target.rt.kind, "apiVersion": self.target.rt.api_version(), "metadata": metadata}})
    }
}

/// `{"type": ..., "object": ...}` followed by a newline, without copying the object.
fn encode(event_type: &str, object: &Value) -> Bytes {
    let mut text = format!("{{\"type\":\"{event_type}\",\"object\":");
    text.push_str(&object.to_string());
    text.push_str("}\n");
    Bytes::from(text)
}

/// The line a watcher sends for a change: shared across watchers when it reports the change as
/// it happened (most do), built for this watcher otherwise (a Table, or a selector transition).
fn event_line(filter: &Filter, event: &WatchEvent) -> Option<Bytes> {
    let event_type = filter.event_type(event)?;
    if filter.as_table {
        return line(&filter.line(event_type, &event.object)).ok();
    }
    if event_type == event.event_type {
        return Some(event.encoded.get_or_init(|| encode(event_type, &event.object)).clone());
    }
    Some(encode(event_type, &event.object))
}

fn line(value: &Value) -> Result<Bytes, Infallible> {
    let mut text = value.to_string();
    text.push('\n');
    Ok(Bytes::from(text))
}

/// Starts a watch on a collection.
pub(super) fn start(app: Arc<App>, call: &Call, target: Target) -> Result<Response, ApiError> {
    let (labels, fields) = call.selectors()?;
    let as_table = table::wanted(call.header(header::ACCEPT));
    let filter = Filter {
        target,
        labels,
        fields,
        as_table,
    };
    let bookmarks = call.param("allowWatchBookmarks") == Some("true");
    let send_initial = call.param("sendInitialEvents") == Some("true");
    let timeout = call
        .param("timeoutSeconds")
        .and_then(|t| t.parse().ok())
        .unwrap_or(DEFAULT_TIMEOUT_SECONDS);
    let requested = call.param("resourceVersion").unwrap_or_default();
    let (initial, rx, start_rv) = {
        let store = app.store.lock();
        let rx = store.subscribe();
        let rv = store.resource_version();
        let initial: Vec<Value> = if requested.is_empty() || requested == "0" || send_initial {
            store
                .list_selected_shared(
                    &filter.target.rt,
                    filter.target.namespace.as_deref(),
                    &filter.labels,
                    |o| filter.fields.matches(o),
                )
                .iter()
                .map(|o| filter.line("ADDED", o))
                .collect()
        } else {
            let from: u64 = requested
                .parse()
                .map_err(|_| ApiError::bad_request(format!("invalid resourceVersion {requested:?}")))?;
            store
                .events_since(from)?
                .iter()
                .filter_map(|e| filter.event_type(e).map(|t| filter.line(t, &e.object)))
                .collect()
        };
        (initial, rx, rv)
    };
    let (tx, out) = mpsc::channel(256);
    tokio::spawn(stream(
        tx,
        rx,
        filter,
        initial,
        start_rv,
        bookmarks,
        send_initial,
        timeout,
    ));
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(ReceiverStream::new(out)),
    )
        .into_response())
}

#[allow(clippy::too_many_arguments)] // the parameters of one watch, passed once to its task
async fn stream(
    tx: mpsc::Sender<Result<Bytes, Infallible>>,
    mut rx: broadcast::Receiver<Arc<WatchEvent>>,
    filter: Filter,
    initial: Vec<Value>,
    start_rv: u64,
    bookmarks: bool,
    send_initial: bool,
    timeout: u64,
) {
    for event in &initial {
        if tx.send(line(event)).await.is_err() {
            return;
        }
    }
    if send_initial && tx.send(line(&filter.bookmark(start_rv, true))).await.is_err() {
        return;
    }
    let deadline = tokio::time::sleep(Duration::from_secs(timeout));
    tokio::pin!(deadline);
    let mut ticker = tokio::time::interval(BOOKMARK_EVERY);
    ticker.tick().await;
    let mut last_rv = start_rv;
    loop {
        let next = tokio::select! {
            () = &mut deadline => return,
            _ = ticker.tick() => {
                if bookmarks { Some(line(&filter.bookmark(last_rv, false))) } else { None }
            }
            received = rx.recv() => match received {
                Ok(event) if event.rv > last_rv => {
                    last_rv = event.rv;
                    event_line(&filter, &event).map(Ok)
                }
                Ok(_) => None,
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let gone = ApiError::gone("the watch fell too far behind and was closed; list again and restart the watch");
                    let _ = tx.send(line(&json!({"type": "ERROR", "object": gone.to_status()}))).await;
                    return;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        };
        if let Some(bytes) = next
            && tx.send(bytes).await.is_err()
        {
            return;
        }
    }
}
