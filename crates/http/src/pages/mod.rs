//! The web pages (`tryvoha_web` renders them) and their assets, under the page security policy:
//! a Content-Security-Policy without inline scripts and with `frame-ancestors 'none'`,
//! `X-Content-Type-Options: nosniff` and `Referrer-Policy` on every page and asset; and
//! `Connection: close`, so that the page's event stream gets a connection of its own.
//!
//! The language comes from `?lang=` (remembered in a `lang` cookie, which is no credential:
//! tokens travel only as bearer headers), else the cookie, else `Accept-Language`.

pub(crate) mod app;
pub(crate) mod assets;
mod cached;
pub(crate) mod report;
pub(crate) mod views;

pub use cached::PageCache;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use axum::routing::get;
use tryvoha_web::{CONTENT_SECURITY_POLICY, Lang};

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(views::map))
        .route("/regions/{id}", get(views::region))
        .route("/shelters", get(views::shelters))
        .route("/console", get(views::console))
        .route("/alerts/{id}/report", get(report::page))
        .route("/assets/{name}", get(assets::asset))
        .route("/manifest.webmanifest", get(app::manifest))
        .route("/sw.js", get(app::service_worker))
        .layer(axum::middleware::map_response(security_headers))
}

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("strict-origin-when-cross-origin"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // A page's scripts open the event stream once the page and its assets are in. Were one of
    // their connections left open, the browser would send the stream over it, through hyper,
    // at ten times the memory of a stream on its own connection (docs/BENCHMARKS.md). The
    // assets load in parallel on connections of their own anyway.
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// The page's language, and whether the query chose it (then the answer remembers it).
fn language(query: Option<&str>, headers: &HeaderMap) -> (Lang, Option<Lang>) {
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix("lang="))
        .map(str::to_owned);
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    let chosen = query.and_then(Lang::parse);
    (Lang::choose(query, cookie.as_deref(), accept), chosen)
}
