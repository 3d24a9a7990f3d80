//! `PATCH /api/v1/regions/{id}`: an admin sets a region's time to shelter (inherited by its
//! descendants), or clears it back to the registry file's or the inherited one.

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Deserializer};

use super::{RegionView, find_region};
use crate::AppState;
use crate::auth::{Admins, Authorized};
use crate::body::JsonBody;
use crate::openapi;
use crate::problem::ApiError;

/// What an admin changes about a region.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegionChange {
    /// Seconds (0 to 3600; 0 is "at once") people there have to reach a shelter once an alert
    /// starts, for the region and the descendants that have none of their own; null clears it.
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<u32>, required = true, maximum = 3600)]
    shelter_within_s: Option<Option<u32>>,
}

/// A member that is present, null or not: `Some(None)` for null, `None` only when absent.
fn given<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Option<u32>>, D::Error> {
    Option::<u32>::deserialize(deserializer).map(Some)
}

#[utoipa::path(
    patch, path = "/api/v1/regions/{id}", operation_id = "changeRegion", tag = "regions",
    summary = "Set a region's time to shelter (admin)",
    description = "Role: admin.\n\nSets the region's time to shelter, which it and its descendants without one of their own \
        carry on every alert declared from then on (`shelter_within_s`); null clears it. Answers the region as `GET` \
        would list it. The body is at most 64 KiB.",
    params(
        ("id" = String, Path, description = "A numeric region id (e.g. `14`) or a KATOTTG code (e.g. `UA…`)."),
    ),
    request_body(content = RegionChange, content_type = "application/json"),
    security(("bearerAuth" = [])),
    responses(
        openapi::ShelterAdminRefusals,
        (status = 200, description = "Changed.", body = RegionView, content_type = "application/json"),
        (status = 400, response = openapi::BodyUnreadable),
        (status = 404, response = openapi::RegionNotFound),
        (status = 413, response = openapi::BodyTooLarge),
        (status = 415, response = openapi::UnsupportedMediaType),
        (status = 422,
            description = "`shelter_within_s` is missing, not a whole number or over 3600, or another member is given. \
                Problem code: `invalid-field`, `field` names the member.",
            body = openapi::Problem, content_type = "application/problem+json"),
        (status = 503, response = openapi::StorageUnavailable),
    )
)]
pub(crate) async fn change(
    State(state): State<AppState>,
    Authorized(caller, _): Authorized<Admins>,
    Path(id): Path<String>,
    JsonBody(change): JsonBody<RegionChange>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let book = state.engine.book();
    let region = find_region(book.registry(), &id)?;
    let Some(seconds) = change.shelter_within_s else {
        return Err(ApiError::invalid_field("shelter_within_s", "shelter_within_s is required (null clears it)"));
    };
    let times = state.engine.set_shelter_time(region.id, seconds, caller.actor).await?;
    // The book read above predates the change: the answer says what holds now.
    let mut view = RegionView::new(region, &book);
    view.shelter_within_s = times.within(region.id, book.registry());
    Ok(Json(serde_json::to_value(view).unwrap_or_default()))
}
