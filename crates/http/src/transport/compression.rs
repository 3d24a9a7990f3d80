//! Response compression: gzip or brotli, as the client's `Accept-Encoding` asks, for the JSON,
//! GeoJSON and CSV answers and the pages with their scripts and styles (the hromada map layer
//! is 1.4 MB of text and shrinks about tenfold).
//!
//! Never for event streams: a compressor holds bytes back until it has enough to pack, and a
//! warning must leave the server the moment it is written. (The direct SSE path in `listener`
//! bypasses the router anyway; this keeps every other stream honest too.)

use axum::http::{Extensions, HeaderMap, StatusCode, Version, header};
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate};

/// Media types worth compressing: text that can be large.
const COMPRESSIBLE: [&str; 8] = [
    "application/json",
    "application/geo+json",
    "application/problem+json",
    "text/csv",
    "text/html",
    "text/css",
    "text/javascript",
    "image/svg+xml",
];

pub fn layer() -> CompressionLayer<impl Predicate> {
    // The default predicate already refuses tiny bodies, images, gRPC and event streams.
    CompressionLayer::new().gzip(true).br(true).compress_when(DefaultPredicate::new().and(compressible_type))
}

fn compressible_type(_: StatusCode, _: Version, headers: &HeaderMap, _: &Extensions) -> bool {
    let Some(content_type) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else { return false };
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    COMPRESSIBLE.iter().any(|compressible| essence.eq_ignore_ascii_case(compressible))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_type(content_type: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, content_type.parse().unwrap_or(axum::http::HeaderValue::from_static("")));
        headers
    }

    #[test]
    fn json_geojson_and_csv_are_compressed_and_event_streams_never() {
        let compressed =
            |t: &str| compressible_type(StatusCode::OK, Version::HTTP_11, &with_type(t), &Extensions::new());
        for yes in ["application/json", "application/geo+json", "text/csv; charset=utf-8", "application/problem+json"] {
            assert!(compressed(yes), "{yes}");
        }
        for no in ["text/event-stream", "text/event-stream; charset=utf-8", "image/png", ""] {
            assert!(!compressed(no), "{no}");
        }
    }

    #[tokio::test]
    async fn a_client_that_refuses_every_encoding_gets_the_answer_the_handler_gave() {
        use tower::{Layer as _, ServiceExt as _};
        // The handler has run (an alert may have been declared) before the layer sees the
        // answer: turning it into a refusal then would report undone what was done.
        let handler = tower::service_fn(|_: axum::http::Request<axum::body::Body>| async {
            let body = axum::body::Body::from("{\"id\":1}".repeat(200));
            let answer = axum::http::Response::builder().status(StatusCode::CREATED);
            answer.header(header::CONTENT_TYPE, "application/json").body(body)
        });
        let request = axum::http::Request::builder()
            .header(header::ACCEPT_ENCODING, "identity;q=0")
            .body(axum::body::Body::empty())
            .unwrap_or_default();
        let response = layer().layer(handler).oneshot(request).await.expect("an answer");
        assert_eq!(response.status(), StatusCode::CREATED);
        assert!(response.headers().get(header::CONTENT_ENCODING).is_none());
    }
}
