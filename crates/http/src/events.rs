//! `GET /events`: the raw log, paged, for administrators.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tryvoha_core::{Event, Seq};

use crate::AppState;
use crate::auth::{Admins, Authorized};
use crate::body::{Query, is_storable};
use crate::openapi;
use crate::problem::ApiError;

const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;

pub fn router() -> Router<AppState> {
    Router::new().route("/events", get(page))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageQuery {
    /// Return events with a sequence number greater than this.
    #[serde(default)]
    #[param(value_type = u64, default = 0)]
    after: Seq,
    /// The most events to return.
    #[param(value_type = Option<u64>, minimum = 1, maximum = 1000, default = 100)]
    limit: Option<usize>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = EventPage)]
struct Page {
    /// In sequence order: alerts', incidents' (private ones too: this is the admins' log) and
    /// shelters' events.
    events: Vec<Event>,
    /// Pass as `after` to get the next page; equal to `after` when this page is empty.
    #[schema(value_type = u64)]
    next_after: Seq,
}

#[utoipa::path(
    get, path = "/api/v1/events", operation_id = "listEvents", tag = "events",
    summary = "Page through the event log",
    description = "Role: admin.\n\nThe raw event log in sequence order, `limit` events after `after`. To read it all, start \
        with `after=0` and pass each page's `next_after` until a page comes back empty.",
    params(PageQuery),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "A page of events.", body = Page, content_type = "application/json"),
        (status = 400,
            description = "A query parameter is unknown or has a value that is not accepted (e.g. `limit` outside 1 to 1000); \
                `field` names it. Problem code: `invalid-query`.",
            body = openapi::Problem, content_type = "application/problem+json"),
        (status = 401, response = openapi::TokenRequired),
        (status = 403, response = openapi::AdminOnly),
        (status = 429, response = openapi::RateLimited),
        (status = 503, response = openapi::StorageUnavailable),
    )
)]
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
    let next_after = events.last().map_or(query.after, |e| e.seq());
    Ok(Json(Page { events, next_after }))
}
