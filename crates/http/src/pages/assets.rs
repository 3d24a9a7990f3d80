//! `/assets/{name}`: the pages' scripts, styles and region table, from the binary. A name
//! carries its content's hash, so an answer is cached for a year (`immutable`); its ETag is the
//! hash, and `If-None-Match` gets a 304. Compression is the router's (`transport::compression`).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use tryvoha_web::Asset;

use crate::AppState;
use crate::openapi;
use crate::problem::ApiError;

#[utoipa::path(
    get, path = "/assets/{name}", operation_id = "pageAsset", tag = "pages",
    summary = "A script, style or data file of the web pages",
    description = "Names carry a hash of the content (`map.3f9c2a1b07.js`): cached for a year, ETag = the hash.",
    params(("name" = String, Path), ("If-None-Match" = Option<String>, Header, nullable = false)),
    responses(
        (status = 200, description = "The file: a script, a style sheet, the region table, or an icon.", content(
            (String = "text/javascript"), (String = "text/css"), (Object = "application/json"),
            (String = "image/svg+xml"), (String = "image/png"),
        )),
        (status = 304, description = "Not modified."),
        (status = 404, description = "No such asset. Problem code: `asset-not-found`.", body = openapi::Problem, content_type = "application/problem+json"),
        (status = 429, response = openapi::RateLimited),
    )
)]
pub(crate) async fn asset(State(state): State<AppState>, Path(name): Path<String>, headers: HeaderMap) -> Response {
    let Some(asset) = state.web.assets.get(&name) else {
        return ApiError::new(StatusCode::NOT_FOUND, "asset-not-found", format!("no asset {name:?}")).into_response();
    };
    answer(&headers, asset, "public, max-age=31536000, immutable")
}

/// `file` with its ETag and `cache_control`, or 304 when the client holds it already.
pub(crate) fn answer(headers: &HeaderMap, file: &Asset, cache_control: &'static str) -> Response {
    let etag = HeaderValue::from_str(&file.etag).unwrap_or(HeaderValue::from_static("\"\""));
    let cache = (header::CACHE_CONTROL, HeaderValue::from_static(cache_control));
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == file.etag || tag.trim() == "*"));
    if matches {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag), cache]).into_response();
    }
    let content_type = HeaderValue::from_static(file.content_type);
    ([(header::CONTENT_TYPE, content_type), (header::ETAG, etag), cache], file.bytes.clone()).into_response()
}
