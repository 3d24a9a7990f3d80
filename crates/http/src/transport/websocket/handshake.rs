//! The WebSocket opening handshake (RFC 6455 §4.2): what a client's request must say, and the
//! server's `101 Switching Protocols` answer.

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha1::{Digest, Sha1};

use crate::problem::ApiError;

/// Appended to the client's key before hashing (RFC 6455 §1.3).
const ACCEPT_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The only version of the protocol there is.
const VERSION: &str = "13";

/// The `Sec-WebSocket-Accept` that answers a handshake with these headers, or why they are no
/// handshake (426 `websocket-required`, naming the header).
pub(super) fn accept_key(headers: &HeaderMap) -> Result<String, ApiError> {
    if !has_token(headers, &header::UPGRADE, "websocket") {
        return Err(required(header::UPGRADE, "Upgrade: websocket is missing"));
    }
    if !has_token(headers, &header::CONNECTION, "upgrade") {
        return Err(required(header::CONNECTION, "Connection: Upgrade is missing"));
    }
    if headers.get(header::SEC_WEBSOCKET_VERSION).is_none_or(|version| version.as_bytes() != VERSION.as_bytes()) {
        return Err(required(header::SEC_WEBSOCKET_VERSION, "Sec-WebSocket-Version must be 13"));
    }
    let key = headers.get(header::SEC_WEBSOCKET_KEY).map(|key| key.as_bytes().trim_ascii()).unwrap_or_default();
    if key.is_empty() {
        return Err(required(header::SEC_WEBSOCKET_KEY, "Sec-WebSocket-Key is missing"));
    }
    Ok(STANDARD.encode(Sha1::new().chain_update(key).chain_update(ACCEPT_GUID).finalize()))
}

/// The headers an answer that refuses a handshake carries (426 needs `Upgrade`, RFC 9110
/// §15.5.22): the protocol and the version this server speaks.
pub(super) fn refusal_headers() -> [(HeaderName, HeaderValue); 2] {
    [
        (header::UPGRADE, HeaderValue::from_static("websocket")),
        (header::SEC_WEBSOCKET_VERSION, HeaderValue::from_static(VERSION)),
    ]
}

/// The answer that opens the WebSocket.
pub(super) fn switching_protocols(accept: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
    )
    .into_bytes()
}

/// Whether a comma-separated header (given once or more) lists `token`, in any case.
fn has_token(headers: &HeaderMap, name: &HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|item| item.trim().eq_ignore_ascii_case(token))
}

fn required(field: HeaderName, detail: &str) -> ApiError {
    ApiError::new(StatusCode::UPGRADE_REQUIRED, "websocket-required", format!("this is a WebSocket endpoint: {detail}"))
        .with_field(field.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(lines: &[(&'static str, &'static str)]) -> HeaderMap {
        lines.iter().map(|(name, value)| (HeaderName::from_static(name), HeaderValue::from_static(value))).collect()
    }

    const HANDSHAKE: [(&str, &str); 4] = [
        ("upgrade", "websocket"),
        ("connection", "Upgrade"),
        ("sec-websocket-version", "13"),
        ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];

    #[test]
    fn the_accept_key_is_the_one_rfc_6455_gives_for_its_sample_key() {
        assert_eq!(accept_key(&headers(&HANDSHAKE)).ok().as_deref(), Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
        // Tokens in any case, among others: what Firefox sends.
        let firefox = [("upgrade", "WebSocket"), ("connection", "keep-alive, Upgrade"), HANDSHAKE[2], HANDSHAKE[3]];
        assert!(accept_key(&headers(&firefox)).is_ok());
    }

    #[test]
    fn a_request_that_is_no_handshake_is_refused_naming_what_is_missing() {
        for (missing, field) in
            [(0, "upgrade"), (1, "connection"), (2, "sec-websocket-version"), (3, "sec-websocket-key")]
        {
            let without: Vec<_> =
                HANDSHAKE.iter().enumerate().filter(|(at, _)| *at != missing).map(|(_, h)| *h).collect();
            let error = accept_key(&headers(&without)).expect_err(field);
            assert_eq!(
                (error.status, error.code, error.field.as_deref()),
                (StatusCode::UPGRADE_REQUIRED, "websocket-required", Some(field))
            );
        }
        let old = [HANDSHAKE[0], HANDSHAKE[1], ("sec-websocket-version", "8"), HANDSHAKE[3]];
        assert_eq!(accept_key(&headers(&old)).map_err(|e| e.field), Err(Some("sec-websocket-version".into())));
    }
}
