//! get and list (with selectors, pagination and Table output).

use axum::http::{StatusCode, header};
use std::sync::Arc;

use axum::response::{IntoResponse as _, Response};
use serde_json::{Value, json};

use super::path::Target;
use super::status::ApiError;
use super::{App, Call, json as respond, scale, table};

/// `GET .../{name}[/{subresource}]`.
pub(super) fn get(app: &App, call: &Call, target: &Target) -> Result<Response, ApiError> {
    let store = app.store.lock();
    let name = target.name.as_deref().unwrap_or_default();
    let obj = store.get(&target.rt, target.namespace.as_deref().unwrap_or_default(), name)?;
    match target.subresource.as_deref() {
        None | Some("status") => {}
        Some("scale") => return Ok(respond(StatusCode::OK, &scale::scale_of(&target.rt, &obj)?)),
        Some(other) => return Err(ApiError::no_route(&format!("{}/{other}", target.rt.qualified()))),
    }
    if table::wanted(call.header(header::ACCEPT)) {
        return Ok(respond(
            StatusCode::OK,
            &table::render(&target.rt, &[obj], store.resource_version()),
        ));
    }
    Ok(respond(StatusCode::OK, &obj))
}

/// A continue token: the resourceVersion of the list's first page and the last key served, as
/// kube-apiserver's (`storage.EncodeContinue`) carries the first page's revision so that every page
/// reports it and a watch from it misses no change made while the pages were read.
fn continue_token(rv: u64, namespace: &str, name: &str) -> String {
    format!("{rv}/{namespace}/{name}")
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The resourceVersion and the last key of a continue token.
fn decode_token(token: &str) -> Result<(u64, (String, String)), ApiError> {
    let bad = || ApiError::bad_request(format!("invalid continue token {token:?}"));
    let bytes: Result<Vec<u8>, _> = (0..token.len())
        .step_by(2)
        .map(|i| {
            token
                .get(i..i + 2)
                .ok_or_else(bad)
                .and_then(|h| u8::from_str_radix(h, 16).map_err(|_| bad()))
        })
        .collect();
    let text = String::from_utf8(bytes?).map_err(|_| bad())?;
    let mut parts = text.splitn(3, '/');
    let (Some(rv), Some(ns), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let rv = rv.parse().map_err(|_| bad())?;
    Ok((rv, (ns.to_owned(), name.to_owned())))
}

/// `GET` on a collection.
pub(super) fn list(app: &App, call: &Call, target: &Target) -> Result<Response, ApiError> {
    let (labels, fields) = call.selectors()?;
    let store = app.store.lock();
    // Shared with the store: a list serialises the stored objects without copying them.
    let mut items: Vec<Arc<Value>> =
        store.list_selected_shared(&target.rt, target.namespace.as_deref(), &labels, |o| fields.matches(o));
    let mut rv = store.resource_version();
    let token = call
        .param("continue")
        .filter(|t| !t.is_empty())
        .map(decode_token)
        .transpose()?;
    // Later pages show the objects as they are now (the store keeps no snapshots), but report the
    // first page's resourceVersion: a watch from it replays every change made since, so a
    // paginated list followed by a watch misses nothing, as with kube-apiserver's snapshot reads.
    if let Some((first, _)) = &token {
        if !store.retains(*first) {
            return Err(ApiError::gone(format!(
                "the provided continue parameter is too old to display a consistent list result (resourceVersion {first}); list again without it"
            )));
        }
        rv = *first;
    }
    drop(store);
    if let Some((_, after)) = token {
        items.retain(|o| {
            let key = (
                o.pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                o.pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            );
            key > after
        });
    }
    let limit = call
        .param("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0);
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    if let Some(limit) = limit.filter(|l| items.len() > *l) {
        let remaining = items.len() - limit;
        items.truncate(limit);
        if let Some(last) = items.last() {
            let ns = last
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let name = last
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            metadata["continue"] = json!(continue_token(rv, ns, name));
            metadata["remainingItemCount"] = json!(remaining);
        }
    }
    if table::wanted(call.header(header::ACCEPT)) {
        let objects: Vec<Value> = items.iter().map(|o| Value::clone(o)).collect();
        let mut table = table::render(&target.rt, &objects, rv);
        table["metadata"] = metadata;
        return Ok(respond(StatusCode::OK, &table));
    }
    let list = List {
        kind: target.rt.list_kind(),
        api_version: target.rt.api_version(),
        metadata,
        items: items.iter().map(|o| &**o).collect(),
    };
    let body = serde_json::to_string(&list).map_err(|e| ApiError::internal(format!("encoding the list: {e}")))?;
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// A list response, borrowing the stored objects.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct List<'a> {
    kind: String,
    api_version: String,
    metadata: Value,
    items: Vec<&'a Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens_round_trip() {
        assert_eq!(
            decode_token(&continue_token(42, "default", "web-1")).unwrap(),
            (42, ("default".into(), "web-1".into()))
        );
        assert_eq!(
            decode_token(&continue_token(7, "", "node-1")).unwrap(),
            (7, (String::new(), "node-1".into()))
        );
        assert_eq!(decode_token("zz").unwrap_err().code, 400);
    }
}
