//! The transport: everything between a socket and a feature router. The accept loop
//! (`listener`) sends a fresh `GET /api/v1/stream` or `GET /api/v1/ws` connection to a direct
//! path (`sse`, `websocket`: both read their request with `direct_request` and live in
//! `direct_stream`) and every other one to hyper and the router, whose answers pass the layers
//! of [`around`]; a kept-alive connection whose next request is a stream is handed back
//! (`handoff`). Both
//! paths take their headers from `headers`, their problem documents from `problem` and their
//! limits from `limits`; `auth` and `body` are the extractors every handler uses. `tasks` owns
//! every connection's task, so that a stopping server waits for them.

pub mod auth;
pub mod body;
pub mod compression;
pub mod cors;
mod direct_request;
pub(crate) mod direct_stream;
pub mod handoff;
pub mod headers;
pub mod limits;
pub mod listener;
pub mod problem;
pub mod sse;
mod stream_socket;
pub mod tasks;
pub mod websocket;

use axum::Router;
use axum::extract::DefaultBodyLimit;

use crate::{AppState, MAX_BODY_BYTES, audit};

/// The feature routes inside the layers every routed request passes, innermost first: the time
/// limit, the audit of refused writes, the body limits, compression, the rate limit, CORS and
/// tracing; unknown paths and methods are problem documents.
///
/// The live streams (`streams`) pass only the outer layers (rate limit, CORS, tracing): they
/// take no body, answer their head at once, and are never compressed. Kept out of the
/// compression layer, a stream served through hyper (a client that reuses a kept-alive
/// connection, as browsers do) does not carry the compressor's 5.8 KiB state for its life.
pub fn around(features: Router<AppState>, streams: Router<AppState>, state: AppState) -> Router {
    features
        .fallback(problem::not_found)
        .method_not_allowed_fallback(problem::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.clone(), problem::within_time_limit))
        .layer(axum::middleware::from_fn(audit::refused_writes))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(compression::layer())
        .merge(streams.method_not_allowed_fallback(problem::method_not_allowed))
        .layer(axum::middleware::from_fn(limits::refuse_oversized_bodies))
        .layer(axum::middleware::from_fn_with_state(state.clone(), limits::limit_requests))
        .layer(axum::middleware::from_fn_with_state(state.clone(), cors::cors))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}
