//! `PATCH /api/v1/shelters/{id}/status`: responders and operators of the shelter's region (and
//! admins) say whether it is open, full or closed tonight, and how full. Each change is an
//! event of the log, streamed to those who asked for `types=shelters`; the nearest shelters
//! offered to the public follow it at once.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tryvoha_core::{ShelterState, ShelterStatus, StatusReport};

use super::shelters::{shelter_id, shelter_not_found};
use crate::AppState;
use crate::auth::{Authorized, Responders};
use crate::body::JsonBody;
use crate::openapi;
use crate::problem::ApiError;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StatusChange {
    status: ShelterState,
    /// People inside now.
    #[serde(default)]
    occupancy: Option<u32>,
    /// How many it holds tonight, when that differs from the registry's figure.
    #[serde(default)]
    #[schema(minimum = 1)]
    capacity: Option<u32>,
    /// Step-free access as it is tonight.
    #[serde(default)]
    accessible: Option<bool>,
    #[serde(default)]
    #[schema(max_length = 500)]
    notes: Option<String>,
}

/// A shelter's status as served: what was reported, and how old it is.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct StatusView {
    #[serde(flatten)]
    status: ShelterStatus,
    /// Seconds since it was reported: a status from hours ago says less than one from now.
    age_s: i64,
}

impl StatusView {
    pub(crate) fn new(status: &ShelterStatus, now: OffsetDateTime) -> StatusView {
        StatusView { status: status.clone(), age_s: (now - status.since).whole_seconds().max(0) }
    }
}

#[utoipa::path(
    patch, path = "/api/v1/shelters/{id}/status", operation_id = "setShelterStatus", tag = "places",
    summary = "Report a shelter open, full or closed (responder, operator, admin)",
    description = "Roles: responder and operator (of the region the shelter stands in), admin.\n\nRecords a \
        `shelter_status` event. `/shelters/nearest` skips closed shelters, and full ones unless \
        `include_full=true`. The body is at most 64 KiB.",
    params(("id" = u64, Path, description = "The shelter's id.")),
    request_body(content = StatusChange, content_type = "application/json"),
    security(("bearerAuth" = [])),
    responses(
        openapi::IncidentRefusals,
        (status = 200, description = "Recorded.", body = StatusView, content_type = "application/json"),
        (status = 400, response = openapi::BodyUnreadable),
        (status = 404, response = openapi::ShelterNotFound),
        (status = 413, response = openapi::BodyTooLarge),
        (status = 415, response = openapi::UnsupportedMediaType),
        (status = 422,
            description = "A member is missing or invalid, or the shelter lies outside every region (`outside-regions`); \
                `field` names the member.",
            body = openapi::Problem, content_type = "application/problem+json"),
        (status = 503, response = openapi::StorageUnavailable),
    )
)]
pub(super) async fn change(
    State(state): State<AppState>,
    Authorized(caller, _): Authorized<Responders>,
    Path(id): Path<String>,
    JsonBody(change): JsonBody<StatusChange>,
) -> Result<Json<StatusView>, ApiError> {
    let id = shelter_id(&id)?;
    let index = state.places.shelters();
    let shelter = index.all().iter().find(|s| s.id == id).ok_or_else(|| shelter_not_found(id))?;
    let region_id = state.places.locator().locate(shelter.info.coordinates()).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "outside-regions",
            format!("shelter {} lies outside every region of the registry: no scope covers it", id.0),
        )
        .with_field("id")
    })?;
    let report = StatusReport {
        shelter_id: id,
        region_id,
        status: change.status,
        occupancy: change.occupancy,
        capacity: change.capacity,
        accessible: change.accessible,
        notes: change.notes,
    };
    let event = state.engine.set_shelter_status(report, caller.actor, caller.grant).await?;
    state.places.status_changed(event.seq, event.shelter.clone());
    Ok(Json(StatusView::new(&event.shelter, OffsetDateTime::now_utc())))
}
