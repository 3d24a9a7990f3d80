//! Response compression: gzip or brotli, as the client's `Accept-Encoding` asks, for the JSON,
//! GeoJSON and CSV answers (the hromada map layer is 1.4 MB of text and shrinks about tenfold).
//!
//! Never for event streams: a compressor holds bytes back until it has enough to pack, and a
//! warning must leave the server the moment it is written. (The direct SSE path in `listener`
//! bypasses the router anyway; this keeps every other stream honest too.)

use axum::http::{Extensions, HeaderMap, StatusCode, Version, header};
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate};

/// Media types worth compressing: text that can be large.
const COMPRESSIBLE: [&str; 4] = ["application/json", "application/geo+json", "application/problem+json", "text/csv"];

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
}
