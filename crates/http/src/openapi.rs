//! `GET /api/openapi.json`: the OpenAPI 3.1 description, generated from the handlers'
//! `#[utoipa::path]` attributes and the types they take and answer with. A test checks that
//! every route is described and every described operation is routed.

mod assembly;
mod closed;
mod problem;
mod responses;
mod schemas;

use std::sync::LazyLock;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use utoipa::OpenApi;

use crate::AppState;

pub use problem::Problem;
pub use responses::*;
pub use schemas::*;

/// The document as served, rendered once.
static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    // A document of plain strings and maps always serializes.
    let mut document = serde_json::to_value(assembly::ApiDoc::openapi()).unwrap_or_default();
    closed::merge_closed_flattened(&mut document);
    // OpenAPI 3.1 has `info.summary`; utoipa's `Info` does not.
    document["info"]["summary"] = "Public air-raid warning server.".into();
    serde_json::to_string_pretty(&document).unwrap_or_default()
});

/// The OpenAPI document as JSON.
pub fn document_json() -> &'static str {
    &DOCUMENT
}

pub fn router() -> Router<AppState> {
    Router::new().route("/api/openapi.json", get(document))
}

#[utoipa::path(
    get, path = "/api/openapi.json", operation_id = "getOpenApi", tag = "service",
    summary = "This OpenAPI description",
    description = "The OpenAPI 3.1 description of the API, as `application/json`. No token needed.",
    responses(
        (status = 200, description = "This document.", body = AnyObject, content_type = "application/json"),
        (status = 429, response = RateLimited),
    )
)]
async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], document_json())
}

#[cfg(test)]
mod tests {
    // Test code: an unwrap that fails is a failing test, which is what it should be.
    #![allow(clippy::unwrap_used)]

    use super::document_json;

    #[test]
    fn every_reference_in_the_document_names_a_component_it_has() {
        let document: serde_json::Value = serde_json::from_str(document_json()).unwrap();
        let text = document_json();
        let mut checked = 0;
        for (at, _) in text.match_indices("\"$ref\": \"#/") {
            let target = &text[at + "\"$ref\": \"#".len()..];
            let target = &target[..target.find('"').unwrap()];
            assert!(document.pointer(target).is_some(), "{target} is referenced but not in the document");
            checked += 1;
        }
        assert!(checked > 100, "the references were found ({checked})");
    }

    #[test]
    fn the_problem_code_enum_is_in_the_problem_schema() {
        let document: serde_json::Value = serde_json::from_str(document_json()).unwrap();
        let codes = document.pointer("/components/schemas/Problem/properties/code/enum").unwrap();
        assert_eq!(codes.as_array().unwrap().len(), super::problem::PROBLEM_CODES.len());
    }

    /// Every route sits behind the per-client rate limit (`transport::limits`), so any of them
    /// may answer 429; a client generated from the document must expect it everywhere.
    #[test]
    fn every_operation_documents_the_rate_limit() {
        let document: serde_json::Value = serde_json::from_str(document_json()).unwrap();
        let mut missing = Vec::new();
        let mut operations = 0;
        for (path, item) in document["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                operations += 1;
                if operation["responses"].get("429").is_none() {
                    missing.push(format!("{method} {path}"));
                }
            }
        }
        assert!(operations >= 40, "the operations were found ({operations})");
        assert!(missing.is_empty(), "no 429 documented: {missing:?}");
    }
}
