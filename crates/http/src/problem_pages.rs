//! `/problems/{code}`: the documentation of each error code, so that a problem document's `type`
//! (`/problems/<code>`, a reference relative to this server) leads somewhere real.
//!
//! The text is docs/errors.md, compiled in: the table row and the section of one code, as
//! Markdown. The table links each code to its section (`[`code`](#section)`), so codes that
//! share a section (the `cap-*` codes) share its text.

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::AppState;
use crate::openapi;
use crate::problem::ApiError;

const ERRORS_MD: &str = include_str!("../../../docs/errors.md");

pub fn router() -> Router<AppState> {
    Router::new().route("/problems/{code}", get(page))
}

/// The `type` of a problem document with this code.
pub fn type_reference(code: &str) -> String {
    format!("/problems/{code}")
}

#[utoipa::path(
    get, path = "/problems/{code}", operation_id = "getProblemType", tag = "service",
    summary = "Read the documentation of an error code",
    description = "What a problem document's `type` (`/problems/<code>`) refers to: the code's row and section of \
        docs/errors.md, as Markdown. No token needed.",
    params(
        ("code" = String, Path,
            description = "An error code, as in a problem document's `code`."),
    ),
    responses(
        (status = 200, description = "The code's documentation.", body = String, content_type = "text/markdown"),
        (status = 429, response = openapi::RateLimited),
        (status = 404, description = "Not an error code of this API (`not-found`).",
            body = openapi::Problem, content_type = "application/problem+json"),
    )
)]
async fn page(Path(code): Path<String>) -> Response {
    match documentation(ERRORS_MD, &code) {
        Some(text) => ([(header::CONTENT_TYPE, "text/markdown; charset=utf-8")], text).into_response(),
        None => ApiError::new(StatusCode::NOT_FOUND, "not-found", format!("{code:?} is not an error code of this API"))
            .into_response(),
    }
}

/// `# <code>`, the code's table row as sentences, and its section.
fn documentation(errors: &str, code: &str) -> Option<String> {
    let (_, row, anchor) = table_rows(errors).find(|(listed, _, _)| *listed == code)?;
    let cells: Vec<&str> = row.trim_matches('|').split('|').map(str::trim).collect();
    let (status, field, when) = (cells.get(1)?, cells.get(2).unwrap_or(&""), cells.get(3).unwrap_or(&""));
    let mut out = format!("# {code}\n\nStatus {status}. {when}\n");
    if !field.is_empty() {
        out.push_str(&format!("\n`field`: {field}.\n"));
    }
    if let Some(section) = section(errors, anchor) {
        out.push('\n');
        out.push_str(section.trim());
        out.push('\n');
    }
    out.push_str("\nAll codes: docs/errors.md; the API: /api/openapi.json.\n");
    Some(out)
}

/// `(code, the whole row, the section it links to)` for each row of the codes table.
fn table_rows(errors: &str) -> impl Iterator<Item = (&str, &str, &str)> {
    errors.lines().filter_map(|line| {
        let rest = line.strip_prefix("| [`")?;
        let (code, rest) = rest.split_once("`](#")?;
        let (anchor, _) = rest.split_once(')')?;
        Some((code, line, anchor))
    })
}

/// The text under `## <anchor>`, up to the next heading of that level.
fn section<'a>(errors: &'a str, anchor: &str) -> Option<&'a str> {
    let heading = format!("\n## {anchor}\n");
    let start = errors.find(&heading)? + heading.len();
    let rest = &errors[start..];
    Some(rest.find("\n## ").map_or(rest, |end| &rest[..end]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn documented_codes(errors: &str) -> Vec<&str> {
        table_rows(errors).map(|(code, _, _)| code).collect()
    }

    #[test]
    fn every_code_the_openapi_document_names_is_documented() {
        let document: serde_json::Value = serde_json::from_str(crate::openapi::document_json()).unwrap();
        let documented = documented_codes(ERRORS_MD);
        for code in document["components"]["schemas"]["Problem"]["properties"]["code"]["enum"].as_array().unwrap() {
            let code = code.as_str().unwrap();
            assert!(documented.contains(&code), "{code} is in the OpenAPI enum but not in docs/errors.md");
        }
    }

    #[test]
    fn every_listed_code_has_a_page_with_its_section() {
        let codes = documented_codes(ERRORS_MD);
        assert!(codes.contains(&"invalid-field") && codes.contains(&"internal"), "{codes:?}");
        for code in codes {
            let text = documentation(ERRORS_MD, code).unwrap();
            assert!(text.starts_with(&format!("# {code}\n\nStatus ")), "{text}");
        }
        let page = documentation(ERRORS_MD, "invalid-field").unwrap();
        assert!(page.contains("`field` is the path of the offending field"), "{page}");
        let shared = documentation(ERRORS_MD, "cap-expired").unwrap();
        assert!(shared.contains("The `cap-*` codes"), "a code that shares a section gets it: {shared}");
    }

    #[test]
    fn a_code_not_in_the_table_has_no_page() {
        assert_eq!(documentation(ERRORS_MD, "no-such-code"), None);
        assert_eq!(documentation(ERRORS_MD, "not-found\n## x"), None);
    }
}
