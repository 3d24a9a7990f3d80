//! tryvoha alerts as CAP messages, and the Atom index of the current ones; what they say is
//! `tryvoha_cap_map`'s (`message`, `feed`), this is how they are served.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use tryvoha_core::Alert;

use crate::AppState;
use crate::openapi;

/// The CAP document of an alert's current state; `reinstated` is the cancelled alert it
/// reinstates, when it does, which its declaration references.
pub fn cap_response(state: &AppState, alert: &Alert, reinstated: Option<&Alert>) -> Response {
    let registry = state.engine.registry();
    let rings = state.boundaries.rings(alert.region_id);
    let message = tryvoha_cap_map::message(alert, reinstated, registry, &rings, &state.cap_sender);
    ([(header::CONTENT_TYPE, tryvoha_cap::CAP_MIME_TYPE)], tryvoha_cap::write(&message)).into_response()
}

/// `GET /feeds/cap.atom`: the active alerts, newest first, each linking to its CAP message.
#[utoipa::path(
    get, path = "/feeds/cap.atom", operation_id = "capFeed", tag = "cap",
    summary = "Atom feed of the current alerts as CAP 1.2",
    responses(
        (status = 200,
            description = "Atom 1.0, entries linking to /api/v1/alerts/{id}.cap. Every link starts with the configured \
                `public_url` (default `http://` and the listen address), never with the request's Host.",
            body = String, content_type = "application/atom+xml"),
        (status = 429, response = openapi::RateLimited),
    )
)]
pub async fn feed(State(state): State<AppState>) -> Response {
    // Links must be absolute. They come from the configured public URL, never from the request's
    // Host header: a cache in front of us would otherwise keep whatever host an attacker sent.
    let book = state.engine.book();
    let feed =
        tryvoha_cap_map::feed(&book, &state.public_url, &state.cap_sender, |region| state.boundaries.rings(region));
    ([(header::CONTENT_TYPE, "application/atom+xml")], tryvoha_cap::atom::write_feed(&feed)).into_response()
}
