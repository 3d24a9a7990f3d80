//! Reading alerts: the active ones (filtered as a stream would be) and one by id, as JSON or CAP.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tryvoha_core::Alert;

use super::alert_id;
use crate::AppState;
use crate::body::Query;
use crate::openapi;
use crate::problem::ApiError;
use crate::stream::StreamQuery;

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct AlertList {
    alerts: Vec<Alert>,
}

/// Filtered by the stream's parameters (`regions`, `kinds`, `status`, or `lat` and `lon`), with
/// the same meaning: what a stream with that filter would show in its snapshot.
#[utoipa::path(
    get, path = "/api/v1/alerts/active", operation_id = "listActiveAlerts", tag = "alerts",
    summary = "List the active alerts",
    description = "Every active alert, of any status (`actual`, `exercise`, `test`), by id; the parameters filter as on the \
        stream (`regions`, `kinds`, `status`, or `lat` and `lon`). No token needed.",
    params(StreamQuery),
    responses(
        (status = 200, description = "The active alerts that match.",
            body = AlertList, content_type = "application/json"),
        (status = 400, description = "A filter value is not accepted (`invalid-query` naming it).",
            body = openapi::Problem, content_type = "application/problem+json"),
        (status = 404, response = openapi::OutsideRegions),
        (status = 429, response = openapi::RateLimited),
    )
)]
pub(crate) async fn active(
    State(state): State<AppState>,
    Query(query): Query<StreamQuery>,
) -> Result<Json<AlertList>, ApiError> {
    let filter = query.filter(&state)?;
    let book = state.engine.book();
    let authority = state.live.signer.authority();
    let alerts = book
        .active()
        .filter(|alert| filter.matches(alert, book.registry()))
        .map(|a| a.published_by(authority))
        .collect();
    Ok(Json(AlertList { alerts }))
}

/// `{id}` as JSON (declared by the issuing authority, as everything public), or `{id}.cap` as its
/// CAP 1.2 message.
#[utoipa::path(
    get, path = "/api/v1/alerts/{id}", operation_id = "getAlert", tag = "alerts",
    summary = "Get an alert",
    description = "An alert, active or finished. No token needed. With `.cap` after the id (`/api/v1/alerts/7.cap`), the \
        alert's current state as an OASIS CAP 1.2 message (`application/cap+xml`).",
    params(
        ("id" = tryvoha_core::AlertId, Path,
            description = "The alert id. A value that is not a non-negative integer is answered with 404 `alert-not-found` \
                naming `id`."),
    ),
    responses(
        (status = 200, description = "The alert.", body = tryvoha_core::Alert, content_type = "application/json"),
        (status = 404, response = openapi::AlertNotFound),
        (status = 429, response = openapi::RateLimited),
        (status = 503, response = openapi::StorageUnavailable),
    )
)]
pub(crate) async fn one(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let (number, as_cap) = match id.strip_suffix(".cap") {
        Some(number) => (number, true),
        None => (id.as_str(), false),
    };
    let id = alert_id(number)?;
    let alert = state.engine.alert(id).await?;
    let alert = alert
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "alert-not-found", format!("alert {id} does not exist")))?;
    Ok(if as_cap {
        let reinstated = match alert.reinstates {
            Some(cancelled) => state.engine.alert(cancelled).await?,
            None => None,
        };
        crate::cap::cap_response(&state, &alert, reinstated.as_ref())
    } else {
        Json(alert.published_by(state.live.signer.authority())).into_response()
    })
}
