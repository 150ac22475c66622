//! Bad requests get the Status kube-apiserver returns, never a panic and never a half-stored object.

// Test code: a failed unwrap is a failed test, which is what it should be.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::ListParams;
use sim::Sim;

/// Sends a raw request; returns the HTTP status and the Status reason.
async fn send(client: &kube::Client, method: &str, path: &str, content_type: &str, body: Vec<u8>) -> (u16, String) {
    let request = http::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", content_type)
        .body(body)
        .unwrap();
    match client.request_text(request).await {
        Ok(text) => (200, text),
        Err(kube::Error::Api(status)) => (status.code, status.reason),
        Err(other) => panic!("{method} {path}: {other:?}"),
    }
}

#[tokio::test]
async fn malformed_unknown_misplaced_and_oversized_requests() {
    let sim = Sim::start().await.unwrap();
    let client = sim.client().unwrap();
    let cms = "/api/v1/namespaces/default/configmaps";
    let one = "/api/v1/namespaces/default/configmaps/a";
    // (method, path, content type, body, expected code, expected reason)
    type Case<'a> = (&'a str, &'a str, &'a str, Vec<u8>, u16, &'a str);
    let cases: Vec<Case<'_>> = vec![
        // Malformed JSON is 400 BadRequest.
        (
            "POST",
            cms,
            "application/json",
            b"{not json".to_vec(),
            400,
            "BadRequest",
        ),
        // A body whose namespace differs from the URL's is 400 BadRequest.
        (
            "POST",
            cms,
            "application/json",
            br#"{"metadata":{"name":"a","namespace":"other"}}"#.to_vec(),
            400,
            "BadRequest",
        ),
        // A kind that does not match the URL is 400 BadRequest.
        (
            "POST",
            cms,
            "application/json",
            br#"{"kind":"Secret","metadata":{"name":"a"}}"#.to_vec(),
            400,
            "BadRequest",
        ),
        // A name that is not a DNS subdomain is 422 Invalid.
        (
            "POST",
            cms,
            "application/json",
            br#"{"metadata":{"name":"Not_Valid"}}"#.to_vec(),
            422,
            "Invalid",
        ),
        // Unknown resources are 404 NotFound.
        (
            "GET",
            "/apis/example.com/v1/widgets",
            "application/json",
            Vec::new(),
            404,
            "NotFound",
        ),
        // Bodies above 3 MiB are 413.
        (
            "POST",
            cms,
            "application/json",
            vec![b' '; 4 * 1024 * 1024],
            413,
            "RequestEntityTooLarge",
        ),
        // Protobuf bodies of kinds the simulator does not decode, and unknown patch types, are 415.
        (
            "POST",
            cms,
            "application/vnd.kubernetes.protobuf",
            b"k8s\0".to_vec(),
            415,
            "UnsupportedMediaType",
        ),
        ("PATCH", one, "text/plain", b"{}".to_vec(), 415, "UnsupportedMediaType"),
        // A verb a path does not serve is 405 MethodNotAllowed.
        ("PUT", cms, "application/json", b"{}".to_vec(), 405, "MethodNotAllowed"),
        // Server-side apply needs a field manager: a 422 on the PatchOptions, as kube-apiserver.
        (
            "PATCH",
            one,
            "application/apply-patch+yaml",
            b"metadata: {name: a}".to_vec(),
            422,
            "Invalid",
        ),
    ];
    for (method, path, content_type, body, code, reason) in cases {
        let got = send(&client, method, path, content_type, body).await;
        assert_eq!(got, (code, reason.to_owned()), "{method} {path} ({content_type})");
    }
    // None of them stored anything.
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    assert!(api.list(&ListParams::default()).await.unwrap().items.is_empty());
}

#[tokio::test]
async fn a_watch_from_a_compacted_resource_version_is_gone() {
    use sim::api::objects::{NewIdentity, prepare_create};
    use sim::api::registry::Registry;
    use sim::api::store::{HISTORY, Store};
    let rt = Registry::default().find("", "v1", "configmaps").unwrap().clone();
    let mut store = Store::new();
    let first = store.resource_version();
    for i in 0..=HISTORY {
        let id = NewIdentity {
            namespace: Some("default"),
            uid: i.to_string(),
            now: "t",
            suffix: "",
        };
        let obj = prepare_create(&rt, serde_json::json!({"metadata": {"name": format!("cm-{i}")}}), &id).unwrap();
        store.create(&rt, obj, false).unwrap();
    }
    // Events older than the kept history answer 410 Gone, so clients list again.
    let err = store.events_since(first).unwrap_err();
    assert_eq!((err.code, err.reason), (410, "Expired"));
    assert_eq!(store.events_since(store.resource_version() - 5).unwrap().len(), 5);
}
