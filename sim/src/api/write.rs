//! create, update, patch, delete and deletecollection, plus the scale and eviction subresources.

use axum::http::{StatusCode, header};
use axum::response::Response;
use rand::Rng;
use serde_json::{Value, json};

use super::objects::{NewIdentity, Part, prepare_create, prepare_update};
use super::patch::{self, PatchKind};
use super::path::Target;
use super::resources::ResourceType;
use super::schema;
use super::status::{ApiError, Cause, success_status};
use super::store::{Propagation, now};
use super::{App, Call, admission, json as respond, scale};
use super::{builtin, defaults, managed};

fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut rng = rand::rng();
    (0..5)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

fn namespace(target: &Target) -> &str {
    target.namespace.as_deref().unwrap_or_default()
}

fn part(target: &Target) -> Result<Part, ApiError> {
    match target.subresource.as_deref() {
        None => Ok(Part::Main),
        Some("status") if target.rt.status_subresource => Ok(Part::Status),
        Some("finalize") if target.rt.plural == "namespaces" => Ok(Part::Main),
        Some(other) => Err(ApiError::no_route(&format!("{}/{other}", target.rt.qualified()))),
    }
}

/// Applies the defaults of a built-in kind, or checks a custom resource against its CRD schema: prunes unknown fields, applies defaults, and
/// rejects invalid fields. Returns the warnings to send (unknown fields under `fieldValidation=Warn`,
/// the default); `Strict` turns unknown fields into a 400, `Ignore` drops them silently.
fn admit(call: &Call, rt: &ResourceType, obj: &mut Value) -> Result<Vec<String>, ApiError> {
    let strict = field_validation(call)? == Some("Strict");
    builtin::decode(rt, obj)?;
    let builtin_unknown = match builtin::schema::of(&rt.group, &rt.kind).filter(|_| !rt.custom) {
        Some(root) => {
            if let Some(error) = builtin::schema::type_error(root, &rt.kind, obj) {
                return Err(ApiError::bad_request(format!(
                    "{kind} in version \"{version}\" cannot be handled as a {kind}: {error}",
                    kind = rt.kind,
                    version = rt.version
                )));
            }
            builtin::schema::unknown(root, obj, !strict)
        }
        .into_iter()
        .map(|u| u.0)
        .collect(),
        None => Vec::new(),
    };
    let mut warnings = unknown_fields(call, rt, &builtin_unknown)?;
    defaults::apply(rt, obj);
    builtin::validate(rt, obj)?;
    let Some(schema) = rt.schema.as_ref().filter(|_| rt.custom) else {
        return Ok(warnings);
    };
    let found = schema::admit(schema, obj);
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !found.invalid.is_empty() {
        return Err(ApiError::invalid(&rt.group, &rt.kind, name, &found.invalid));
    }
    warnings.extend(unknown_fields(call, rt, &found.unknown)?);
    if !found.unevaluated_rules.is_empty() {
        warnings.push(format!(
            "the simulated API server does not evaluate x-kubernetes-validations (CEL) rules; not checked: {}",
            found.unevaluated_rules.join(", ")
        ));
    }
    Ok(warnings)
}

/// `?fieldValidation=`: `Strict`, `Warn`, `Ignore` or nothing; anything else is a 422 on the
/// request's options, as kube-apiserver's `ValidateFieldValidation` says it.
fn field_validation(call: &Call) -> Result<Option<&str>, ApiError> {
    match call.param("fieldValidation") {
        None | Some("") => Ok(None),
        Some(mode @ ("Strict" | "Warn" | "Ignore")) => Ok(Some(mode)),
        Some(other) => {
            let options = match call.method.as_str() {
                "POST" => "CreateOptions",
                "PUT" => "UpdateOptions",
                _ => "PatchOptions",
            };
            let message =
                format!("Unsupported value: \"{other}\": supported values: \"\", \"Ignore\", \"Strict\", \"Warn\"");
            Err(ApiError::invalid_options(
                options,
                &[Cause::new("FieldValueNotSupported", "fieldValidation".into(), message)],
            ))
        }
    }
}

/// What the unknown fields `found` (already pruned unless Strict) give under the request's
/// `fieldValidation`: a 400 (Strict), warnings (Warn, the default), or nothing (Ignore).
fn unknown_fields(call: &Call, rt: &ResourceType, found: &[String]) -> Result<Vec<String>, ApiError> {
    let unknown: Vec<String> = found.iter().map(|p| format!("unknown field \"{p}\"")).collect();
    match field_validation(call)? {
        Some("Strict") if !unknown.is_empty() => Err(ApiError::bad_request(format!(
            "{kind} in version \"{version}\" cannot be handled as a {kind}: strict decoding error: {}",
            unknown.join(", "),
            kind = rt.kind,
            version = rt.version
        ))),
        Some("Ignore") => Ok(Vec::new()),
        _ => Ok(unknown),
    }
}

/// A JSON response with `Warning` headers, as kube-apiserver sends them.
fn respond_warned(code: StatusCode, value: &Value, warnings: &[String]) -> Response {
    let mut response = respond(code, value);
    for warning in warnings {
        let text = format!("299 - {}", serde_json::Value::String(warning.clone()));
        if let Ok(header_value) = header::HeaderValue::from_str(&text) {
            response.headers_mut().append(header::WARNING, header_value);
        }
    }
    response
}

fn manager(call: &Call) -> String {
    managed::manager_name(call.param("fieldManager"), call.header(header::USER_AGENT))
}

/// `POST` on a collection.
pub(super) async fn create(app: &App, call: &Call, target: &Target) -> Result<Response, ApiError> {
    let body = call.json_body()?;
    let now = now();
    let id = NewIdentity {
        namespace: target.namespace.as_deref(),
        uid: uuid::Uuid::new_v4().to_string(),
        now: &now,
        suffix: &random_suffix(),
    };
    let obj = prepare_create(&target.rt, body, &id)?;
    store_new(app, call, target, obj, Fields::Record, &now).await
}

/// Admits a prepared new object (mutating webhooks, the schema, validating webhooks) and stores
/// it. Admission and field bookkeeping need no lock: only storing does.
async fn store_new(
    app: &App,
    call: &Call,
    target: &Target,
    obj: Value,
    fields: Fields,
    now: &str,
) -> Result<Response, ApiError> {
    let webhooks = admission::any_configured(app);
    let request = admission::Request {
        operation: "CREATE",
        target,
        call,
        old: None,
    };
    let mut obj = if webhooks {
        admission::mutate(app, &request, obj).await?
    } else {
        obj
    };
    let warnings = admit(call, &target.rt, &mut obj)?;
    if webhooks {
        admission::validate(app, &request, Some(&obj)).await?;
    }
    if fields == Fields::Record {
        managed::record_update(&target.rt, None, &mut obj, &manager(call), Part::Main, now);
    }
    let created = app.store.lock().create(&target.rt, obj, call.dry_run())?;
    Ok(respond_warned(StatusCode::CREATED, &created, &warnings))
}

/// Whether an update records its manager's fields (server-side apply has already done it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fields {
    Record,
    Recorded,
}

/// How many times an update whose object changed during admission is tried again on the new
/// version (as kube-apiserver's `GuaranteedUpdate` does).
const ATTEMPTS: usize = 5;

/// Admits and stores a new version of an existing object. `change` builds the new version from
/// the stored one and returns it with the part it writes; when the webhooks take time and
/// someone else writes meanwhile, it is built again on the newer version.
async fn update_with(
    app: &App,
    call: &Call,
    target: &Target,
    fields: Fields,
    change: impl Fn(&Value) -> Result<(Value, Part), ApiError>,
) -> Result<Response, ApiError> {
    let name = target.name.as_deref().unwrap_or_default();
    for _ in 0..ATTEMPTS {
        let (old, new, part) = {
            let mut store = app.store.lock();
            let old = store.get(&target.rt, namespace(target), name)?;
            let (mut new, part) = change(&old)?;
            if !admission::configured_in(&store) {
                let warnings = admit(call, &target.rt, &mut new)?;
                if part == Part::Main {
                    builtin::validate_update(&target.rt, &old, &new)?;
                }
                if fields == Fields::Record {
                    managed::record_update(&target.rt, Some(&old), &mut new, &manager(call), part, &now());
                }
                let stored = store.replace(&target.rt, new, call.dry_run())?;
                return Ok(respond_warned(StatusCode::OK, &stored, &warnings));
            }
            (old, new, part)
        };
        let request = admission::Request {
            operation: "UPDATE",
            target,
            call,
            old: Some(&old),
        };
        let mut new = admission::mutate(app, &request, new).await?;
        let warnings = admit(call, &target.rt, &mut new)?;
        if part == Part::Main {
            builtin::validate_update(&target.rt, &old, &new)?;
        }
        admission::validate(app, &request, Some(&new)).await?;
        let mut store = app.store.lock();
        let current = store.get(&target.rt, namespace(target), name)?;
        if current.pointer("/metadata/resourceVersion") != old.pointer("/metadata/resourceVersion") {
            continue;
        }
        if fields == Fields::Record {
            managed::record_update(&target.rt, Some(&old), &mut new, &manager(call), part, &now());
        }
        let stored = store.replace(&target.rt, new, call.dry_run())?;
        return Ok(respond_warned(StatusCode::OK, &stored, &warnings));
    }
    Err(ApiError::conflict(&target.rt.group, &target.rt.plural, name))
}

/// `PUT` on an object or its status.
pub(super) async fn update(app: &App, call: &Call, target: &Target) -> Result<Response, ApiError> {
    if target.subresource.as_deref() == Some("scale") {
        return scale::write(app, call, target, |_| call.json_body());
    }
    let part = part(target)?;
    let body = call.json_body()?;
    update_with(app, call, target, Fields::Record, |old| {
        Ok((prepare_update(&target.rt, old, body.clone(), part)?, part))
    })
    .await
}

/// `PATCH` on an object, its status or its scale.
pub(super) async fn patch(app: &App, call: &Call, target: &Target) -> Result<Response, ApiError> {
    let kind = PatchKind::from_content_type(call.header(header::CONTENT_TYPE))?;
    if target.subresource.as_deref() == Some("scale") {
        return scale::write(app, call, target, |scale| patch::apply(kind, scale, &call.body));
    }
    let part = part(target)?;
    if kind == PatchKind::Apply {
        return server_side_apply(app, call, target, part).await;
    }
    update_with(app, call, target, Fields::Record, |old| {
        let patched = patch::apply(kind, old, &call.body)?;
        Ok((prepare_update(&target.rt, old, patched, part)?, part))
    })
    .await
}

/// `PATCH` with `application/apply-patch+yaml`: server-side apply, creating the object if needed.
async fn server_side_apply(app: &App, call: &Call, target: &Target, part: Part) -> Result<Response, ApiError> {
    let manager = call.param("fieldManager").filter(|m| !m.is_empty()).ok_or_else(|| {
        let cause = Cause::new(
            "FieldValueRequired",
            "fieldManager".into(),
            "Required value: is required for apply patch",
        );
        ApiError::invalid_options("PatchOptions", &[cause])
    })?;
    let force = call.param("force") == Some("true");
    let applied = apply_configuration(call, target)?;
    let name = target.name.as_deref().unwrap_or_default();
    let now = now();
    let live = {
        let store = app.store.lock();
        match store.get(&target.rt, namespace(target), name) {
            Ok(obj) => Some(obj),
            Err(e) if e.code == 404 && part == Part::Main => None,
            Err(e) => return Err(e),
        }
    };
    if live.is_none() {
        let merged = managed::apply(&target.rt, None, &applied, manager, force, part, &now)?;
        let id = NewIdentity {
            namespace: target.namespace.as_deref(),
            uid: uuid::Uuid::new_v4().to_string(),
            now: &now,
            suffix: "",
        };
        let obj = prepare_create(&target.rt, merged, &id)?;
        return store_new(app, call, target, obj, Fields::Recorded, &now).await;
    }
    update_with(app, call, target, Fields::Recorded, |live| {
        let merged = managed::apply(&target.rt, Some(live), &applied, manager, force, part, &now)?;
        let mut new = prepare_update(&target.rt, live, merged.clone(), part)?;
        if let (Some(meta), Some(fields)) = (
            new.get_mut("metadata").and_then(Value::as_object_mut),
            merged.pointer("/metadata/managedFields"),
        ) {
            meta.insert("managedFields".into(), fields.clone());
        }
        Ok((new, part))
    })
    .await
}

/// The apply configuration of a server-side apply, completed with the name (and namespace) on
/// the URL as kube-apiserver does.
fn apply_configuration(call: &Call, target: &Target) -> Result<Value, ApiError> {
    let mut applied: Value = crds::yaml::from_slice(&call.body)
        .map_err(|e| ApiError::bad_request(format!("error decoding the apply configuration: {e}")))?;
    if !applied.is_object() {
        return Err(ApiError::bad_request("the apply configuration must be an object"));
    }
    typed_patch_checks(target, &applied)?;
    let name = target.name.as_deref().unwrap_or_default();
    match applied.pointer("/metadata/name").and_then(Value::as_str) {
        Some(n) if n == name => {}
        Some(n) => {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({n}) does not match the name on the URL ({name})"
            )));
        }
        None => {
            if let Some(map) = applied.as_object_mut() {
                let meta = map.entry("metadata").or_insert_with(|| serde_json::json!({}));
                if let Some(meta) = meta.as_object_mut() {
                    meta.insert("name".into(), Value::from(name));
                    if let Some(ns) = target.namespace.as_deref() {
                        meta.entry("namespace").or_insert_with(|| Value::from(ns));
                    }
                }
            }
        }
    }
    Ok(applied)
}

/// What kube-apiserver's apply patcher refuses before merging, in its order and words: another
/// version or kind than the endpoint's, `managedFields` in the configuration, and (for built-in
/// kinds) fields their schema does not declare (structured-merge-diff's typed conversion).
fn typed_patch_checks(target: &Target, applied: &Value) -> Result<(), ApiError> {
    let rt = &target.rt;
    let text = |p: &str| applied.pointer(p).and_then(Value::as_str).unwrap_or_default();
    let api_version = rt.api_version();
    if text("/apiVersion") != api_version {
        return Err(ApiError::bad_request(format!(
            "Incorrect version specified in apply patch. Specified patch version: {}, expected: {api_version}",
            text("/apiVersion")
        )));
    }
    if text("/kind") != rt.kind {
        // Go's `%v` of two `*unstructured.Unstructured` (the pointers differ from run to run).
        let object = "{0xc000000000 {<nil> <nil> <nil>} <nil>}";
        return Err(ApiError::typed_patch(format!(
            "failed to merge config: expected objects of the same type, but got {object} and {object}"
        )));
    }
    if applied.pointer("/metadata/managedFields").is_some_and(|m| !m.is_null()) {
        return Err(ApiError::bad_request("metadata.managedFields must be nil"));
    }
    let Some(root) = builtin::schema::of(&rt.group, &rt.kind).filter(|_| !rt.custom) else {
        return Ok(());
    };
    let mut copy = applied.clone();
    let unknown = builtin::schema::unknown(root, &mut copy, false);
    if unknown.is_empty() {
        return Ok(());
    }
    let errors: Vec<String> = unknown
        .iter()
        .map(|u| format!(".{}: field not declared in schema", u.0))
        .collect();
    let errors = match errors.as_slice() {
        [one] => one.clone(),
        many => format!("errors:\n  {}", many.join("\n  ")),
    };
    Err(ApiError::typed_patch(format!(
        "failed to create typed patch object ({}/{}; {}, Kind={}): {errors}",
        text("/metadata/namespace"),
        text("/metadata/name"),
        if rt.group.is_empty() {
            format!("/{}", rt.version)
        } else {
            api_version.clone()
        },
        rt.kind
    )))
}

fn delete_options(call: &Call) -> Result<(Propagation, Option<Value>), ApiError> {
    let body: Value = if call.body.is_empty() {
        json!({})
    } else {
        call.json_body()?
    };
    let policy = call
        .param("propagationPolicy")
        .or_else(|| body.get("propagationPolicy").and_then(Value::as_str));
    let orphan = call
        .param("orphanDependents")
        .map(|o| o == "true")
        .or_else(|| body.get("orphanDependents").and_then(Value::as_bool));
    // `ValidateDeleteOptions`: the old flag and the policy are one choice.
    if let (Some(_), Some(policy)) = (orphan, policy) {
        let cause = Cause::new(
            "FieldValueInvalid",
            "propagationPolicy".into(),
            format!("Invalid value: {policy:?}: orphanDependents and deletionPropagation cannot be both set"),
        );
        return Err(ApiError::invalid_options("DeleteOptions", &[cause]));
    }
    let policy = policy.or(match orphan {
        Some(true) => Some("Orphan"),
        Some(false) => Some("Background"),
        None => None,
    });
    let propagation = match policy {
        None | Some("Background") => Propagation::Background,
        Some("Foreground") => Propagation::Foreground,
        Some("Orphan") => Propagation::Orphan,
        Some(other) => return Err(ApiError::bad_request(format!("invalid propagationPolicy {other:?}"))),
    };
    Ok((propagation, body.get("preconditions").cloned()))
}

/// `DELETE` on an object (validating webhooks see it first, with the object as `oldObject`).
pub(super) async fn delete(app: &App, call: &Call, target: &Target) -> Result<Response, ApiError> {
    let (propagation, preconditions) = delete_options(call)?;
    let name = target.name.as_deref().unwrap_or_default();
    if admission::any_configured(app) {
        let old = app.store.lock().get(&target.rt, namespace(target), name)?;
        let request = admission::Request {
            operation: "DELETE",
            target,
            call,
            old: Some(&old),
        };
        admission::validate(app, &request, None).await?;
    }
    let mut store = app.store.lock();
    if let Some(pre) = preconditions {
        let current = store.get(&target.rt, namespace(target), name)?;
        for (field, pointer) in [
            ("uid", "/metadata/uid"),
            ("resourceVersion", "/metadata/resourceVersion"),
        ] {
            if let Some(want) = pre.get(field).and_then(Value::as_str)
                && current.pointer(pointer).and_then(Value::as_str) != Some(want)
            {
                return Err(ApiError::conflict(&target.rt.group, &target.rt.plural, name));
            }
        }
    }
    if is_pod(&target.rt) && !call.dry_run() {
        let grace = grace_override(call)?;
        if let Some(marked) = terminate_gracefully(&mut store, &target.rt, namespace(target), name, grace)? {
            return Ok(respond(StatusCode::OK, &marked));
        }
    }
    let obj = store.delete(&target.rt, namespace(target), name, propagation, call.dry_run())?;
    // An object removed at once is answered with a Status, as kube-apiserver's registries do
    // (pods and namespaces answer with the object); one kept (finalizers, foreground, orphan)
    // with the object as it is now.
    let has_finalizers = obj
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| !f.is_empty());
    let removed = if call.dry_run() {
        !has_finalizers
    } else {
        store.get(&target.rt, namespace(target), name).is_err()
    };
    let keeps_object = is_pod(&target.rt) || (target.rt.group.is_empty() && target.rt.plural == "namespaces");
    if removed && propagation == Propagation::Background && !keeps_object {
        let details = json!({
            "name": name,
            "group": target.rt.group,
            "kind": target.rt.plural,
            "uid": obj.pointer("/metadata/uid").cloned().unwrap_or(Value::Null),
        });
        return Ok(respond(StatusCode::OK, &success_status(details)));
    }
    Ok(respond(StatusCode::OK, &obj))
}

fn is_pod(rt: &ResourceType) -> bool {
    rt.group.is_empty() && rt.plural == "pods"
}

/// `gracePeriodSeconds` from the query or the DeleteOptions body.
fn grace_override(call: &Call) -> Result<Option<i64>, ApiError> {
    if let Some(q) = call.param("gracePeriodSeconds") {
        return q
            .parse()
            .map(Some)
            .map_err(|_| ApiError::bad_request(format!("invalid gracePeriodSeconds {q:?}")));
    }
    let body: Value = if call.body.is_empty() {
        json!({})
    } else {
        call.json_body()?
    };
    Ok(body.get("gracePeriodSeconds").and_then(Value::as_i64))
}

/// Graceful pod deletion as kube-apiserver does it: a pod bound to a node and still running is only
/// marked (deletionTimestamp = now + grace) for its kubelet to stop; unbound or finished pods, and a
/// grace period of 0, delete at once (returns `None`).
fn terminate_gracefully(
    store: &mut super::store::Store,
    rt: &ResourceType,
    namespace: &str,
    name: &str,
    grace: Option<i64>,
) -> Result<Option<Value>, ApiError> {
    let pod = store.get(rt, namespace, name)?;
    let bound = pod
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .is_some_and(|n| !n.is_empty());
    let finished = matches!(
        pod.pointer("/status/phase").and_then(Value::as_str),
        Some("Succeeded" | "Failed")
    );
    let grace = grace
        .or_else(|| {
            pod.pointer("/spec/terminationGracePeriodSeconds")
                .and_then(Value::as_i64)
        })
        .unwrap_or(30);
    if !bound || finished || grace <= 0 {
        return Ok(None);
    }
    if pod.pointer("/metadata/deletionTimestamp").is_some() {
        return Ok(Some(pod));
    }
    store.mark_deleting(rt, pod, None, grace).map(Some)
}

/// `DELETE` on a collection: every object matching the selectors.
pub(super) fn delete_collection(app: &App, call: &Call, target: &Target) -> Result<Response, ApiError> {
    let (labels, fields) = call.selectors()?;
    let (propagation, _) = delete_options(call)?;
    let mut store = app.store.lock();
    let victims: Vec<Value> = store.list_where(&target.rt, target.namespace.as_deref(), |o| {
        labels.matches(o) && fields.matches(o)
    });
    let mut deleted = Vec::new();
    for obj in victims {
        let ns = obj
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let name = obj
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        deleted.push(store.delete(&target.rt, &ns, &name, propagation, call.dry_run())?);
    }
    let list = json!({
        "kind": target.rt.list_kind(), "apiVersion": target.rt.api_version(),
        "metadata": {"resourceVersion": store.resource_version().to_string()}, "items": deleted,
    });
    Ok(respond(StatusCode::OK, &list))
}

/// `POST` on an object's subresource: `pods/{name}/eviction` (a graceful delete) and
/// `pods/{name}/binding` (what a scheduler does).
pub(super) fn post_subresource(app: &App, call: &Call, target: &Target) -> Result<Response, ApiError> {
    let name = target.name.as_deref().unwrap_or_default();
    let done = || {
        Ok(respond(
            StatusCode::CREATED,
            &success_status(json!({"name": name, "kind": "pods"})),
        ))
    };
    match (is_pod(&target.rt), target.subresource.as_deref()) {
        (true, Some("eviction")) => {
            let mut store = app.store.lock();
            let graceful = !call.dry_run()
                && terminate_gracefully(&mut store, &target.rt, namespace(target), name, None)?.is_some();
            if !graceful {
                store.delete(
                    &target.rt,
                    namespace(target),
                    name,
                    Propagation::Background,
                    call.dry_run(),
                )?;
            }
            done()
        }
        (false, Some("token")) if target.rt.group.is_empty() && target.rt.plural == "serviceaccounts" => {
            super::auth::reviews::token_request(app, call, target)
        }
        (true, Some("binding")) => {
            let body = call.json_body()?;
            let node = body
                .pointer("/target/name")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
                .ok_or_else(|| {
                    ApiError::invalid("", "Binding", name, &[("target.name".into(), "Required value".into())])
                })?;
            app.store.lock().bind(&target.rt, namespace(target), name, node)?;
            done()
        }
        _ => Err(ApiError::method_not_allowed(format!(
            "POST is not supported on {}/{name}",
            target.rt.qualified()
        ))),
    }
}
