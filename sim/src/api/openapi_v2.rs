//! `/openapi/v2`: the OpenAPI v2 document older clients fetch before `kubectl apply` (kubectl
//! 1.27-1.29 ask for it as protobuf and stop with `NotFound` without it; 1.30+ read v3).
//!
//! The simulator serves v2 as a document without definitions: those clients then fall back to
//! their compiled-in schemas for built-in kinds and to JSON merge patches for custom resources,
//! while field validation happens on the server (`fieldValidation`) and `kubectl explain` reads v3.
//! Written by hand because no crate carries gnostic's `openapi_v2.Document`: the messages below
//! are the fields it needs of `openapiv2/OpenAPIv2.proto` (google/gnostic), with their numbers.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use prost::Message;

/// The protobuf media type clients ask for.
pub const PROTOBUF: &str = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";
/// The media type kube-apiserver answers with (Go's `mime` package refuses the `@` form).
pub const PROTOBUF_CONTENT_TYPE: &str = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

/// `openapi.v2.Document`, the fields the simulator fills.
#[derive(Clone, PartialEq, Message)]
struct Document {
    #[prost(string, tag = "1")]
    swagger: String,
    #[prost(message, optional, tag = "2")]
    info: Option<Info>,
    #[prost(message, optional, tag = "8")]
    paths: Option<Paths>,
    #[prost(message, optional, tag = "9")]
    definitions: Option<Definitions>,
}

/// `openapi.v2.Info`.
#[derive(Clone, PartialEq, Message)]
struct Info {
    #[prost(string, tag = "1")]
    title: String,
    #[prost(string, tag = "2")]
    version: String,
}

/// `openapi.v2.Paths` (empty).
#[derive(Clone, PartialEq, Message)]
struct Paths {}

/// `openapi.v2.Definitions` (empty).
#[derive(Clone, PartialEq, Message)]
struct Definitions {}

fn document() -> Document {
    Document {
        swagger: "2.0".into(),
        info: Some(Info {
            title: "Kubernetes".into(),
            version: format!("v1.{}.0", super::discovery::KUBE_MINOR),
        }),
        paths: Some(Paths {}),
        definitions: Some(Definitions {}),
    }
}

/// The document, as protobuf when the client asks for it, else as JSON.
#[must_use]
pub fn respond(headers: &HeaderMap) -> Response {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if accept.contains("protobuf") {
        return (
            StatusCode::OK,
            [(header::CONTENT_TYPE, PROTOBUF_CONTENT_TYPE)],
            document().encode_to_vec(),
        )
            .into_response();
    }
    let doc = document();
    let info = doc.info.unwrap_or_default();
    let json = serde_json::json!({
        "swagger": doc.swagger,
        "info": {"title": info.title, "version": info.version},
        "paths": {},
        "definitions": {},
    });
    super::json(StatusCode::OK, &json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_protobuf_document_decodes_with_its_version() {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, PROTOBUF.parse().unwrap());
        let bytes = document().encode_to_vec();
        let decoded = Document::decode(bytes.as_slice()).unwrap();
        assert_eq!(decoded.swagger, "2.0");
        assert!(decoded.info.unwrap().version.starts_with("v1."));
        let response = respond(&headers);
        assert_eq!(response.headers()[header::CONTENT_TYPE], PROTOBUF_CONTENT_TYPE);
    }
}
