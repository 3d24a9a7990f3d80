//! Pages rendered once per (page, language, log position, minute) and compressed once, then
//! shared: during an attack everyone opens the map at once, and a page compressed per request
//! cost ~5.5 ms of CPU (docs/BENCHMARKS.md) where a shared one costs a copy. The minute bounds
//! how old the times on a page ("since 02:14 (12 min)") get; the scripts tick them anyway.

use std::io::Write;

use axum::body::Bytes;
use axum::http::{HeaderMap, header};
use tryvoha_core::{Level, RegionId, Seq};
use tryvoha_web::Lang;

use crate::rendered::{RenderFailed, Rendered};

/// Which page: one entry per language, log position and minute.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) enum Page {
    Map(Level),
    Region(RegionId),
    Shelters,
    Console,
}

#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct PageKey {
    pub page: Page,
    pub lang: Lang,
    pub seq: Seq,
    pub minute: i64,
}

/// A page as sent: plain, and gzipped for the clients that take it.
pub(crate) struct Encoded {
    pub html: Bytes,
    pub gzip: Bytes,
}

/// The pages of the newest positions: every map level and the console and finder in both
/// languages, and the region pages people open most.
const PAGES_KEPT: usize = 64;

pub struct PageCache {
    rendered: Rendered<PageKey, Encoded>,
}

impl Default for PageCache {
    fn default() -> PageCache {
        PageCache { rendered: Rendered::new(PAGES_KEPT) }
    }
}

impl PageCache {
    /// The page for `key`, rendered by `render` (on the blocking pool) unless a request already
    /// did, or is doing it now.
    pub(crate) async fn get(
        &self,
        key: PageKey,
        render: impl FnOnce() -> String + Send + 'static,
    ) -> Result<std::sync::Arc<Encoded>, RenderFailed> {
        self.rendered.get(key, move || encode(render())).await
    }

    /// The page for `key`, from `render` (which does its CPU work off the async workers) unless
    /// a request already made it, or is making it now.
    pub(crate) async fn get_with<E>(
        &self,
        key: PageKey,
        render: impl std::future::Future<Output = Result<Encoded, E>>,
    ) -> Result<std::sync::Arc<Encoded>, E> {
        self.rendered.get_with(key, render).await
    }
}

/// A page as sent, made from its HTML.
pub(crate) fn encode(html: String) -> Encoded {
    Encoded { gzip: gzip(html.as_bytes()), html: Bytes::from(html) }
}

fn gzip(bytes: &[u8]) -> Bytes {
    let mut encoder =
        flate2::write::GzEncoder::new(Vec::with_capacity(bytes.len() / 4), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(bytes);
    Bytes::from(encoder.finish().unwrap_or_default())
}

/// Whether the request takes gzip (`Accept-Encoding: gzip`, not with `q=0`).
pub(crate) fn takes_gzip(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(
        |item| {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or_default().trim();
            let refused = parts
                .any(|p| matches!(p.trim().strip_prefix("q="), Some(q) if q.parse::<f32>().is_ok_and(|q| q == 0.0)));
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
        },
    )
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

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
}
