//! The installable web app's two files at the site's root: `/manifest.webmanifest` and the
//! service worker `/sw.js` (at the root so that it may serve every page; `tryvoha_web::pwa`
//! makes both). Their names never change, so they are revalidated on every use (`no-cache`
//! with an ETag); the files they name carry hashes and are cached for good.

use crate::AppState;
use crate::openapi;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

#[utoipa::path(
    get, path = "/manifest.webmanifest", operation_id = "webAppManifest", tag = "pages",
    summary = "The web app manifest",
    description = "What makes the site an installable app: names, start URL, colours, icons.",
    params(("If-None-Match" = Option<String>, Header, nullable = false)),
    responses(
        (status = 200, description = "The manifest.", body = Object, content_type = "application/manifest+json"),
        (status = 304, description = "Not modified."),
        (status = 429, response = openapi::RateLimited),
    )
)]
pub(crate) async fn manifest(State(state): State<AppState>, headers: HeaderMap) -> Response {
    super::assets::answer(&headers, &state.web.manifest, "no-cache")
}

#[utoipa::path(
    get, path = "/sw.js", operation_id = "serviceWorker", tag = "pages",
    summary = "The service worker",
    description = "Shows Web Push messages as notifications and keeps the pages for offline use (docs/push.md).",
    params(("If-None-Match" = Option<String>, Header, nullable = false)),
    responses(
        (status = 200, description = "The script.", body = String, content_type = "text/javascript"),
        (status = 304, description = "Not modified."),
        (status = 429, response = openapi::RateLimited),
    )
)]
pub(crate) async fn service_worker(State(state): State<AppState>, headers: HeaderMap) -> Response {
    super::assets::answer(&headers, &state.web.service_worker, "no-cache")
}
