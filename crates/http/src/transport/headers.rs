//! The header policy: what answers say besides their body, defined once for both paths.
//!
//! Most answers go through hyper and the router, whose layers and handlers set headers in a
//! `HeaderMap`. Three kinds are written by hand on the socket: the direct SSE stream
//! ([`super::sse`]), the direct WebSocket's refusals ([`super::websocket`]; its `101` says only
//! what RFC 6455 asks) and the refusals at accept ([`super::limits::Limits::refusal_answer`]).
//! They take their headers from here, the event stream's from [`EVENT_STREAM`] and the
//! cross-origin ones from [`super::cors::Cors::read_answer_headers`], so that a client sees
//! the same answer whichever path served it. Compression ([`super::compression`]) applies to
//! the router's answers only: a stream is never compressed.

use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};

use super::problem::ApiError;

/// What a live event stream's answer says: its type, that no cache may serve it again, and
/// that nginx must not buffer it (a warning must leave the moment it is written).
pub const EVENT_STREAM: [(HeaderName, HeaderValue); 3] = [
    (header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream")),
    (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
    (HeaderName::from_static("x-accel-buffering"), HeaderValue::from_static("no")),
];

/// The media type of every problem document.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Sets `headers` on an answer. `Vary` is added to, not replaced: other layers (compression)
/// add their own request headers to it.
pub fn set_all(map: &mut HeaderMap, headers: impl IntoIterator<Item = (HeaderName, HeaderValue)>) {
    for (name, value) in headers {
        if name == header::VARY {
            map.append(name, value);
        } else {
            map.insert(name, value);
        }
    }
}

/// The head of an answer written by hand: the status line, `headers`, and `Connection: close`
/// (nothing else is read on such a connection), up to and with the blank line.
pub fn written_head(status: StatusCode, headers: &[(HeaderName, HeaderValue)]) -> String {
    let mut head = format!("HTTP/1.1 {} {}\r\n", status.as_u16(), status.canonical_reason().unwrap_or("Error"));
    for (name, value) in headers {
        head.push_str(&title_case(name.as_str()));
        head.push_str(": ");
        head.push_str(value.to_str().unwrap_or_default());
        head.push_str("\r\n");
    }
    head.push_str("Connection: close\r\n\r\n");
    head
}

/// A problem document written by hand, with `extra` headers (`Retry-After`, the cross-origin
/// ones).
pub fn written_problem(error: &ApiError, extra: &[(HeaderName, HeaderValue)]) -> Vec<u8> {
    let body = error.document();
    let mut headers = vec![
        (header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)),
        (header::CONTENT_LENGTH, HeaderValue::from(body.len())),
    ];
    headers.extend_from_slice(extra);
    let mut answer = written_head(error.status, &headers).into_bytes();
    answer.extend_from_slice(&body);
    answer
}

/// `x-accel-buffering` as `X-Accel-Buffering`: what hyper writes too (`title_case_headers`),
/// for embedded and scripted clients that match `Content-Type` literally.
fn title_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut start_of_word = true;
    for c in name.chars() {
        out.push(if start_of_word { c.to_ascii_uppercase() } else { c });
        start_of_word = c == '-';
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_head_has_title_case_names_and_closes_the_connection() {
        let head = written_head(StatusCode::OK, &EVENT_STREAM);
        assert_eq!(
            head,
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n\
             X-Accel-Buffering: no\r\nConnection: close\r\n\r\n"
        );
    }

    #[test]
    fn a_written_problem_says_its_length_and_ends_with_the_document() {
        let error = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate-limited", "slow down");
        let retry = [(header::RETRY_AFTER, HeaderValue::from(3u64))];
        let answer = String::from_utf8(written_problem(&error, &retry)).unwrap_or_default();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or_default();
        assert!(head.starts_with("HTTP/1.1 429 Too Many Requests\r\n"), "{head}");
        assert!(head.contains("\r\nContent-Type: application/problem+json\r\n"), "{head}");
        assert!(head.contains(&format!("\r\nContent-Length: {}\r\n", body.len())), "{head}");
        assert!(head.contains("\r\nRetry-After: 3\r\n"), "{head}");
        assert_eq!(body.as_bytes(), error.document());
    }

    #[test]
    fn vary_is_added_to_and_the_rest_replaced() {
        let mut map = HeaderMap::new();
        map.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        map.insert(header::CACHE_CONTROL, HeaderValue::from_static("max-age=60"));
        set_all(&mut map, EVENT_STREAM.into_iter().chain([(header::VARY, HeaderValue::from_static("Origin"))]));
        assert_eq!(map.get_all(header::VARY).iter().count(), 2);
        assert_eq!(map[header::CACHE_CONTROL], "no-cache");
    }
}
