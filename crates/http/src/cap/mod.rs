//! OASIS CAP 1.2: every alert as a CAP message (`GET /api/v1/alerts/{id}.cap`), an Atom feed of
//! the current ones (`/feeds/cap.atom`), and alerts from other authorities' systems
//! (`POST /api/v1/cap`). Mapping rules: docs/cap.md.

pub(crate) mod ingest;
pub(crate) mod publish;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

pub use publish::cap_response;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/feeds/cap.atom", get(publish::feed))
        .route("/api/v1/cap", post(ingest::receive).layer(DefaultBodyLimit::max(tryvoha_cap::MAX_DOCUMENT_BYTES + 1)))
}
