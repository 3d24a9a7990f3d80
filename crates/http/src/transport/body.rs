//! JSON request bodies and query strings whose errors name the offending field.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use crate::problem::ApiError;

/// A JSON body, always a JSON object. Syntax errors are `invalid-json` (400); a wrong type, a
/// missing or unknown field is `invalid-field` (422) with the field's path, and a body that is
/// valid JSON but not an object is `invalid-field` naming `body`.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        if let Some(content_type) = content_type
            && !is_json(&content_type)
        {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                format!("expected application/json, got {content_type}"),
            ));
        }
        let bytes = Bytes::from_request(request, state).await.map_err(body_rejection)?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// `application/json` or any `application/…+json`, with or without parameters.
fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    refuse_non_object(bytes)?;
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid-json", format!("the body is not valid JSON: {inner}"))
        } else if path == "." {
            // serde reports a missing field at the parent; its name is in the message.
            let field = missing_field(&inner.to_string()).unwrap_or_else(|| "body".to_owned());
            ApiError::invalid_field(field, without_position(&inner))
        } else {
            ApiError::invalid_field(path, without_position(&inner))
        }
    })?;
    deserializer.end().map_err(|e| {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid-json", format!("trailing characters after the JSON body: {e}"))
    })?;
    Ok(value)
}

/// serde reads a struct from a JSON array too (its fields by position): `["arr","reader"]` would
/// make a token. Only an object is a body, so anything else is refused before serde sees it.
fn refuse_non_object(bytes: &[u8]) -> Result<(), ApiError> {
    let first = bytes.iter().find(|byte| !byte.is_ascii_whitespace());
    if first == Some(&b'{') {
        return Ok(());
    }
    // Not an object: say "not an object" when it is valid JSON, "not JSON" otherwise.
    match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
        Ok(_) => Err(ApiError::invalid_field("body", "the body must be a JSON object")),
        Err(error) => {
            Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid-json", format!("the body is not valid JSON: {error}")))
        }
    }
}

/// serde_json's message without its " at line 1 column 57": `field` already says where, and a
/// position in a body the client never wrote (the CLI's) means nothing to a person.
fn without_position(error: &serde_json::Error) -> String {
    let message = error.to_string();
    match message.rsplit_once(" at line ") {
        Some((text, position)) if position.split(" column ").all(|n| n.parse::<u64>().is_ok()) => text.to_owned(),
        _ => message,
    }
}

fn missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    Some(rest.split('`').next()?.to_owned())
}

fn body_rejection(rejection: BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body-too-large",
            format!("the body is larger than {} bytes", crate::MAX_BODY_BYTES),
        )
    } else {
        ApiError::new(rejection.status(), "unreadable-body", rejection.body_text())
    }
}

/// A query string; a bad value is `invalid-query` naming its parameter. Parameters a handler
/// does not know are ignored (cache-busters such as `?_=123`), so no query struct denies
/// unknown fields.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parse_query(parts.uri.query().unwrap_or_default()).map(Query)
    }
}

/// Parses a query string (without the `?`), naming the parameter at fault.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let message = error.into_inner().to_string();
        let field = if path == "." { missing_field(&message).unwrap_or_else(|| "query".into()) } else { path };
        ApiError::invalid_query(field, message)
    })
}

/// An id in a path (alerts, tokens, shelters) or a sequence number in a query: a decimal number
/// that the store can hold. SQLite integers are i64, so a larger number names nothing and must
/// not reach the store, where it would look like a storage failure.
pub fn stored_id(text: &str) -> Option<u64> {
    text.parse::<u64>().ok().filter(|&id| is_storable(id))
}

/// Whether the store can hold this number as an id or sequence number (at most `i64::MAX`).
pub fn is_storable(number: u64) -> bool {
    i64::try_from(number).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Pair {
        name: String,
        role: String,
    }

    #[test]
    fn an_array_is_not_a_body_even_when_its_items_fit_the_fields() {
        let error = parse_json::<Pair>(br#"["arr","reader"]"#).unwrap_err();
        assert_eq!((error.code, error.field.as_deref()), ("invalid-field", Some("body")));
        let error = parse_json::<Pair>(b" \n 42").unwrap_err();
        assert_eq!((error.code, error.field.as_deref()), ("invalid-field", Some("body")));
    }

    #[test]
    fn text_that_is_not_json_stays_invalid_json() {
        for body in [&b""[..], b"[1,", b"nope"] {
            assert_eq!(parse_json::<Pair>(body).unwrap_err().code, "invalid-json", "{body:?}");
        }
    }

    #[test]
    fn an_object_with_leading_whitespace_is_a_body() {
        let pair: Pair = parse_json(b"\r\n {\"name\": \"a\", \"role\": \"b\"}").unwrap();
        assert_eq!(pair.name, "a");
    }

    #[test]
    fn a_wrong_value_is_described_without_a_parser_position() {
        let error = parse_json::<Pair>(br#"{"name": 5, "role": "b"}"#).unwrap_err();
        assert_eq!(error.field.as_deref(), Some("name"));
        assert_eq!(error.detail, "invalid type: integer `5`, expected a string");
    }

    #[test]
    fn ids_beyond_the_stores_integers_name_nothing() {
        assert_eq!(stored_id("9223372036854775807"), Some(i64::MAX as u64));
        assert_eq!(stored_id("9223372036854775808"), None);
        assert_eq!(stored_id("18446744073709551616"), None);
        assert_eq!(stored_id("-1"), None);
        assert_eq!(stored_id("abc"), None);
    }

    #[derive(serde::Deserialize)]
    struct Limited {
        limit: Option<u32>,
    }

    #[test]
    fn unknown_query_parameters_are_ignored_and_known_ones_checked() {
        let query: Limited = parse_query("_=123&limit=5").unwrap();
        assert_eq!(query.limit, Some(5));
        let error = parse_query::<Limited>("_=123&limit=many").err().unwrap();
        assert_eq!((error.code, error.field.as_deref()), ("invalid-query", Some("limit")));
    }
}
