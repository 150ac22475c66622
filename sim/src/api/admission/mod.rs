//! Admission webhooks, the real protocol (`admissionregistration.k8s.io/v1`): mutating webhooks
//! run before the schema check and may change the object by JSONPatch, in the order of their
//! configurations' names; validating webhooks run after it and may only refuse. `rules`,
//! `namespaceSelector`, `objectSelector`, `failurePolicy`, `timeoutSeconds` and `sideEffects` (a
//! dry run reaches only webhooks without side effects, and is refused by the others) are honoured;
//! `reinvocationPolicy` is not (each mutating webhook runs once), `matchConditions` are not
//! evaluated, and writes through the `scale` subresource do not reach webhooks.

mod call;
mod rules;

use std::collections::BTreeMap;

use serde_json::{Value, json};

use self::rules::{Match, webhook_matches};
use super::path::Target;
use super::status::ApiError;
use super::{App, Call};

/// The kind of webhook.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Mutating,
    Validating,
}

impl Kind {
    fn plural(self) -> &'static str {
        match self {
            Self::Mutating => "mutatingwebhookconfigurations",
            Self::Validating => "validatingwebhookconfigurations",
        }
    }
}

/// One write as the webhooks see it.
pub struct Request<'a> {
    /// `CREATE`, `UPDATE` or `DELETE`.
    pub operation: &'static str,
    /// What is written.
    pub target: &'a Target,
    /// The request.
    pub call: &'a Call,
    /// The object before the write (UPDATE, DELETE).
    pub old: Option<&'a Value>,
}

fn labels(object: Option<&Value>) -> Option<BTreeMap<String, String>> {
    let map = object?.pointer("/metadata/labels").and_then(Value::as_object);
    Some(
        map.into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
            .collect(),
    )
}

/// The webhooks of this kind that the request reaches, in call order.
fn hooks(app: &App, kind: Kind, request: &Request<'_>, object: Option<&Value>) -> Vec<Value> {
    let store = app.store.lock();
    let Some(rt) = store
        .registry
        .find("admissionregistration.k8s.io", "v1", kind.plural())
        .cloned()
    else {
        return Vec::new();
    };
    let configurations = store.list(&rt, None);
    if configurations.is_empty() {
        return Vec::new();
    }
    let target = request.target;
    let namespace_labels = target
        .namespace
        .as_deref()
        .filter(|_| target.rt.namespaced)
        .and_then(|ns| {
            let namespaces = store.registry.find("", "v1", "namespaces")?;
            labels(store.get(namespaces, "", ns).ok().as_ref())
        });
    let is_namespace = target.rt.group.is_empty() && target.rt.plural == "namespaces";
    let matcher = Match {
        operation: request.operation,
        group: &target.rt.group,
        version: &target.rt.version,
        resource: &target.rt.plural,
        subresource: target.subresource.as_deref(),
        namespaced: target.rt.namespaced,
        namespace_labels: if is_namespace { labels(object) } else { namespace_labels },
        object_labels: [labels(object), labels(request.old)].into_iter().flatten().collect(),
    };
    let mut sorted = configurations;
    sorted.sort_by_key(|c| c.pointer("/metadata/name").and_then(Value::as_str).map(str::to_owned));
    sorted
        .iter()
        .flat_map(|c| c.get("webhooks").and_then(Value::as_array).cloned().unwrap_or_default())
        .filter(|w| webhook_matches(w, &matcher))
        .collect()
}

fn name_of(webhook: &Value) -> &str {
    webhook.get("name").and_then(Value::as_str).unwrap_or_default()
}

/// The `AdmissionReview` sent to a webhook.
fn review(request: &Request<'_>, object: Option<&Value>, uid: &str) -> Value {
    let rt = &request.target.rt;
    let kind = json!({"group": rt.group, "version": rt.version, "kind": rt.kind});
    let resource = json!({"group": rt.group, "version": rt.version, "resource": rt.plural});
    let name = object
        .or(request.old)
        .and_then(|o| o.pointer("/metadata/name"))
        .and_then(Value::as_str)
        .or(request.target.name.as_deref())
        .unwrap_or_default();
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": kind, "resource": resource, "requestKind": kind, "requestResource": resource,
            "subResource": request.target.subresource,
            "name": name,
            "namespace": request.target.namespace,
            "operation": request.operation,
            "userInfo": request.call.user.to_json(),
            "object": object,
            "oldObject": request.old,
            "dryRun": request.call.dry_run(),
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": format!("{}Options", title(request.operation))},
        }
    })
}

fn title(operation: &str) -> String {
    let lower = operation.to_lowercase();
    let mut chars = lower.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Calls one webhook; `None` when it failed and its failure policy is `Ignore`.
async fn consult(
    app: &App,
    webhook: &Value,
    request: &Request<'_>,
    object: Option<&Value>,
) -> Result<Option<call::Verdict>, ApiError> {
    let name = name_of(webhook);
    if request.call.dry_run() {
        let side_effects = webhook.get("sideEffects").and_then(Value::as_str).unwrap_or("Unknown");
        if !matches!(side_effects, "None" | "NoneOnDryRun") {
            return Err(ApiError::bad_request(format!(
                "admission webhook \"{name}\" does not support dry run"
            )));
        }
    }
    let uid = uuid::Uuid::new_v4().to_string();
    let config = webhook.get("clientConfig").cloned().unwrap_or(Value::Null);
    let resolve = |ns: &str, svc: &str| app.services.lock().get(&(ns.to_owned(), svc.to_owned())).cloned();
    let result = match call::url(&config, resolve) {
        Ok(url) => call::call(webhook, &url, &review(request, object, &uid), &uid).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(verdict) => Ok(Some(verdict)),
        Err(_) if webhook.get("failurePolicy").and_then(Value::as_str) == Some("Ignore") => Ok(None),
        Err(error) => Err(ApiError::internal(format!(
            "Internal error occurred: failed calling webhook \"{name}\": {error}"
        ))),
    }
}

fn refusal(webhook: &Value, verdict: &call::Verdict) -> ApiError {
    let code = verdict.status.get("code").and_then(Value::as_u64).unwrap_or(0);
    let message = verdict
        .status
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default();
    ApiError::denied_by_webhook(name_of(webhook), u16::try_from(code).unwrap_or(400), message)
}

/// Runs the mutating webhooks the request reaches, in order; returns the object they made.
///
/// # Errors
/// A refusal, a failed call under `failurePolicy: Fail`, or a patch that does not apply.
pub async fn mutate(app: &App, request: &Request<'_>, mut object: Value) -> Result<Value, ApiError> {
    for webhook in hooks(app, Kind::Mutating, request, Some(&object)) {
        let Some(verdict) = consult(app, &webhook, request, Some(&object)).await? else {
            continue;
        };
        if !verdict.allowed {
            return Err(refusal(&webhook, &verdict));
        }
        if let Some(patch) = &verdict.patch {
            json_patch::patch(&mut object, patch).map_err(|e| {
                ApiError::internal(format!(
                    "Internal error occurred: admission webhook \"{}\" returned a patch that does not apply: {e}",
                    name_of(&webhook)
                ))
            })?;
        }
    }
    Ok(object)
}

/// Runs the validating webhooks the request reaches; any of them may refuse.
///
/// # Errors
/// A refusal, or a failed call under `failurePolicy: Fail`.
pub async fn validate(app: &App, request: &Request<'_>, object: Option<&Value>) -> Result<(), ApiError> {
    for webhook in hooks(app, Kind::Validating, request, object) {
        if let Some(verdict) = consult(app, &webhook, request, object).await?
            && !verdict.allowed
        {
            return Err(refusal(&webhook, &verdict));
        }
    }
    Ok(())
}

/// Whether any webhook configuration exists in `store` (when none does, a write is admitted and
/// stored under the one lock it already holds).
#[must_use]
pub fn configured_in(store: &super::store::Store) -> bool {
    [Kind::Mutating, Kind::Validating].iter().any(|kind| {
        store
            .registry
            .find("admissionregistration.k8s.io", "v1", kind.plural())
            .is_some_and(|rt| store.has_any(rt))
    })
}

/// [`configured_in`] the app's store.
#[must_use]
pub fn any_configured(app: &App) -> bool {
    configured_in(&app.store.lock())
}
