//! `GET /alerts/{id}/deliveries`: how the alert went out, per channel (delivery accounting,
//! docs/deliveries.md). Counts since the server started.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use tryvoha_deliveries::AlertSummary;

use super::alert_id;
use crate::AppState;
use crate::auth::{Authorized, Writers};
use crate::openapi;
use crate::problem::ApiError;

#[utoipa::path(
    get, path = "/api/v1/alerts/{id}/deliveries", operation_id = "alertDeliveries", tag = "alerts",
    summary = "How an alert went out",
    description = "Role: admin, or an operator whose scope holds the alert's region.\n\nPer channel (`sse`, `websocket`, \
        `mqtt`, `webhook`, `webpush`): deliveries attempted, delivered, failed and pruned (the recipient is gone and was removed) for every event of the alert, and the latency \
        from the decision to delivery (`p50`, `p90`, `p99` as bucket bounds in ms, `max` exact), since the server started. \
        A channel with nothing to deliver shows zeros.",
    params(("id" = tryvoha_core::AlertId, Path, description = "The alert id.")),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The counts per channel.", body = Object, content_type = "application/json"),
        (status = 401, response = openapi::TokenRequired),
        (status = 403, description = "Not an admin or operator, or the alert's region is outside the operator's scope \
            (`forbidden-role`, `out-of-scope`).", body = openapi::Problem, content_type = "application/problem+json"),
        (status = 404, response = openapi::AlertNotFound),
        (status = 429, response = openapi::RateLimited),
        (status = 503, response = openapi::StorageUnavailable),
    )
)]
pub(crate) async fn deliveries(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<Writers>,
    Path(id): Path<String>,
) -> Result<Json<AlertSummary>, ApiError> {
    let id = alert_id(&id)?;
    let alert =
        state.engine.alert(id).await?.ok_or_else(|| {
            ApiError::new(StatusCode::NOT_FOUND, "alert-not-found", format!("alert {id} does not exist"))
        })?;
    let book = state.engine.book();
    if !principal.grant.may_alert(alert.region_id, book.registry()) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "out-of-scope",
            format!("alert {id} is on region {}, outside this operator's regions", alert.region_id.0),
        )
        .with_field("id"));
    }
    let ledger = &state.live.hub.metrics().deliveries;
    Ok(Json(ledger.get(id).map_or_else(|| ledger.empty_summary(id), |counts| counts.summary())))
}
