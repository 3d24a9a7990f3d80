//! The problem codes cannot drift: every code the handlers can send is documented in
//! docs/errors.md and listed in the served OpenAPI document's `Problem.code` enum, and both lists
//! are the same.

// Test code: an unwrap that fails is a failing test, which is what it should be.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The codes in the table of docs/errors.md: its first column, "| [`code`](#anchor) | …".
fn documented_codes() -> BTreeSet<String> {
    let text = std::fs::read_to_string(repository().join("docs/errors.md")).unwrap();
    text.lines()
        .filter_map(|line| line.strip_prefix("| [`"))
        .filter_map(|rest| rest.split('`').next())
        .map(str::to_owned)
        .collect()
}

fn openapi_codes() -> BTreeSet<String> {
    let document: serde_json::Value = serde_json::from_str(tryvoha_http::openapi_document()).unwrap();
    document["components"]["schemas"]["Problem"]["properties"]["code"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|code| code.as_str().unwrap().to_owned())
        .collect()
}

/// Every literal that follows a status code (`ApiError::new(StatusCode::X, "code", …)`) or is
/// the first argument of one of the CAP module's refusal helpers, in the crate's sources.
fn codes_in_sources() -> BTreeSet<String> {
    let mut codes = BTreeSet::new();
    let mut pending = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            pending.extend(std::fs::read_dir(&path).unwrap().map(|entry| entry.unwrap().path()));
            continue;
        }
        if path.extension().is_some_and(|e| e == "rs") {
            codes.extend(codes_in(&std::fs::read_to_string(&path).unwrap()));
        }
    }
    codes
}

fn codes_in(source: &str) -> Vec<String> {
    let mut found = Vec::new();
    for marker in ["StatusCode::", "refuse(", "cap_error("] {
        for (at, _) in source.match_indices(marker) {
            let rest = &source[at + marker.len()..];
            // For a status: skip its name and the comma; the code is the next literal.
            let rest = if marker == "StatusCode::" {
                let Some(comma) = rest.find(|c: char| !(c.is_ascii_uppercase() || c == '_')) else { continue };
                match rest[comma..].trim_start().strip_prefix(',') {
                    Some(after) => after,
                    None => continue,
                }
            } else {
                rest
            };
            if let Some(literal) = rest.trim_start().strip_prefix('"')
                && let Some(end) = literal.find('"')
            {
                let code = &literal[..end];
                if !code.is_empty() && code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
                    found.push(code.to_owned());
                }
            }
        }
    }
    found
}

#[test]
fn the_error_documentation_and_the_openapi_enum_list_the_same_codes() {
    let documented = documented_codes();
    let enumerated = openapi_codes();
    assert!(documented.len() > 20, "docs/errors.md's table was read ({documented:?})");
    let only_docs: Vec<_> = documented.difference(&enumerated).collect();
    let only_openapi: Vec<_> = enumerated.difference(&documented).collect();
    assert!(
        only_docs.is_empty() && only_openapi.is_empty(),
        "only in docs: {only_docs:?}; only in OpenAPI: {only_openapi:?}"
    );
}

#[test]
fn every_code_the_handlers_send_is_documented() {
    let documented = documented_codes();
    let sent = codes_in_sources();
    assert!(sent.contains("invalid-query") || sent.contains("not-found"), "the sources were scanned ({sent:?})");
    let undocumented: Vec<_> = sent.difference(&documented).collect();
    assert!(undocumented.is_empty(), "codes sent but not in docs/errors.md: {undocumented:?}");
}

#[test]
fn the_scanner_finds_codes_after_a_status_and_in_refusals() {
    let source = r#"ApiError::new(StatusCode::NOT_FOUND, "alert-not-found", x); refuse("cap-expired", "f", "d");
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid-header",
        ); let s = StatusCode::OK;"#;
    assert_eq!(codes_in(source), ["alert-not-found", "invalid-header", "cap-expired"]);
}
