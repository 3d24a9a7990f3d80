//! `GET /events`: the raw log, paged, for administrators.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tryvoha_core::{AlertEvent, Seq};

use crate::AppState;
use crate::auth::{Admins, Authorized};
use crate::body::{Query, is_storable};
use crate::problem::ApiError;

const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;

pub fn router() -> Router<AppState> {
    Router::new().route("/events", get(page))
}

#[derive(Deserialize)]
struct PageQuery {
    #[serde(default)]
    after: Seq,
    limit: Option<usize>,
}

#[derive(Serialize)]
struct Page {
    events: Vec<AlertEvent>,
    /// Pass as `after` to get the next page; equal to `after` when this page is empty.
    next_after: Seq,
}

async fn page(
    State(state): State<AppState>,
    _: Authorized<Admins>,
    Query(query): Query<PageQuery>,
) -> Result<Json<Page>, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::invalid_query("limit", format!("limit must be 1 to {MAX_LIMIT}")));
    }
    if !is_storable(query.after) {
        // No event has so high a number; the store's integers could not even hold it.
        return Err(ApiError::invalid_query("after", "after must be a sequence number up to 9223372036854775807"));
    }
    let events = state.engine.events_after(query.after, limit).await?;
    let next_after = events.last().map_or(query.after, |e| e.seq);
    Ok(Json(Page { events, next_after }))
}
