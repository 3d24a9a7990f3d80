//! Response compression: gzip or brotli, as the client's `Accept-Encoding` asks, for the JSON,
//! GeoJSON and CSV answers and the pages with their scripts and styles (the hromada map layer
//! is 1.4 MB of text and shrinks about tenfold).
//!
//! Never for event streams: a compressor holds bytes back until it has enough to pack, and a
//! warning must leave the server the moment it is written. (The direct SSE path in `listener`
//! bypasses the router anyway; this keeps every other stream honest too.)

use std::io::Write;

use axum::body::Bytes;
use axum::http::{Extensions, HeaderMap, HeaderValue, StatusCode, Version, header};
use flate2::write::GzEncoder;
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

/// An answer compressed once and sent many times (a page, a map layer): plain, and gzipped for
/// the clients that take it. Compressing per request cost 5.5 ms for a 60 KB page and 65 ms
/// for the 1.4 MB hromada layer; an answer marked as encoded is left alone by [`layer`].
pub struct Precompressed {
    plain: Bytes,
    gzip: Bytes,
}

impl Precompressed {
    pub fn new(plain: Bytes) -> Precompressed {
        let mut encoder = GzEncoder::new(Vec::with_capacity(plain.len() / 4), flate2::Compression::default());
        // Writing to a Vec cannot fail.
        let _ = encoder.write_all(&plain);
        Precompressed { gzip: Bytes::from(encoder.finish().unwrap_or_default()), plain }
    }

    /// The body for a request with these headers, and its `Content-Encoding` if any.
    pub fn for_request(&self, request: &HeaderMap) -> (Bytes, Option<HeaderValue>) {
        if takes_gzip(request) {
            (self.gzip.clone(), Some(HeaderValue::from_static("gzip")))
        } else {
            (self.plain.clone(), None)
        }
    }
}

/// Whether the request takes gzip (`Accept-Encoding: gzip` or `*`, not with `q=0`).
pub fn takes_gzip(headers: &HeaderMap) -> bool {
    let items =
        headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(','));
    items.into_iter().any(|item| {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or_default().trim();
        let refused =
            parts.any(|p| matches!(p.trim().strip_prefix("q="), Some(q) if q.parse::<f32>().is_ok_and(|q| q == 0.0)));
        (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_is_taken_unless_refused() {
        let with = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(value));
            takes_gzip(&headers)
        };
        assert!(with("gzip, deflate, br") && with("br;q=1.0, gzip;q=0.5") && with("*"));
        assert!(!with("br") && !with("gzip;q=0") && !with("identity"));
        assert!(!takes_gzip(&HeaderMap::new()));
    }

    #[test]
    fn a_precompressed_answer_reads_back_whole() {
        let plain = Bytes::from("{\"type\":\"FeatureCollection\"}".repeat(100));
        let answer = Precompressed::new(plain.clone());
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
        let (gzipped, encoding) = answer.for_request(&headers);
        assert_eq!(encoding.unwrap(), "gzip");
        let mut unpacked = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gzipped[..]), &mut unpacked).unwrap();
        assert_eq!(unpacked, plain);
        assert_eq!(answer.for_request(&HeaderMap::new()), (plain, None));
    }

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
