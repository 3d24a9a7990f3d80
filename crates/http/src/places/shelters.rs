//! `/shelters`: the shelter registry, listed, searched by distance, and kept by admins.

use axum::extract::DefaultBodyLimit;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tryvoha_core::{Shelter, ShelterId, ShelterInfo};
use tryvoha_places::ShelterUpdateError;

use super::coordinates;
use crate::AppState;
use crate::auth::{Admins, Authorized};
use crate::body::{JsonBody, Query, stored_id};
use crate::openapi;
use crate::problem::ApiError;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/shelters", get(list_shelters).post(add_shelter))
        .route("/shelters/import", post(import_shelters).layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES)))
        .route("/shelters/nearest", get(super::nearest::nearest))
        .route("/shelters/{id}", get(one_shelter).put(update_shelter).delete(remove_shelter))
        .route("/shelters/{id}/status", axum::routing::patch(super::shelter_status::change))
}

#[derive(Deserialize)]
pub(crate) struct ListQuery {
    bbox: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct ShelterList<'a> {
    shelters: Vec<&'a Shelter>,
}

#[utoipa::path(
    get, path = "/api/v1/shelters", operation_id = "listShelters", tag = "places",
    summary = "Shelters, optionally in a bounding box",
    params(
        ("bbox" = Option<String>, Query, example = "30.51,50.44,30.53,50.46",
            description = "min_lon,min_lat,max_lon,max_lat"),
    ),
    responses(
        (status = 200, description = "The shelters, by id.", body = ShelterList, content_type = "application/json"),
        (status = 400, response = openapi::PlaceQueryInvalid),
        (status = 429, response = openapi::RateLimited),
    )
)]
async fn list_shelters(State(state): State<AppState>, Query(query): Query<ListQuery>) -> Result<Response, ApiError> {
    let index = state.places.shelters();
    let shelters = match &query.bbox {
        None => index.all().iter().collect(),
        Some(text) => index.within(parse_bbox(text)?),
    };
    Ok(Json(ShelterList { shelters }).into_response())
}

/// `min_lon,min_lat,max_lon,max_lat`, as in GeoJSON.
pub(crate) fn parse_bbox(text: &str) -> Result<[f64; 4], ApiError> {
    let bad = || ApiError::invalid_query("bbox", "bbox must be min_lon,min_lat,max_lon,max_lat in degrees");
    let numbers: Vec<f64> =
        text.split(',').map(|n| n.trim().parse::<f64>()).collect::<Result<_, _>>().map_err(|_| bad())?;
    let [x0, y0, x1, y1] = <[f64; 4]>::try_from(numbers).map_err(|_| bad())?;
    coordinates(y0, x0).and(coordinates(y1, x1)).map_err(|_| bad())?;
    if x0 > x1 || y0 > y1 {
        return Err(bad());
    }
    Ok([x0, y0, x1, y1])
}

#[utoipa::path(
    get, path = "/api/v1/shelters/{id}", operation_id = "getShelter", tag = "places",
    summary = "One shelter",
    params(
        ("id" = u64, Path),
    ),
    responses(
        (status = 200, description = "The shelter.", body = tryvoha_core::Shelter, content_type = "application/json"),
        (status = 404, response = openapi::ShelterNotFound),
        (status = 429, response = openapi::RateLimited),
    )
)]
async fn one_shelter(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let id = shelter_id(&id)?;
    let index = state.places.shelters();
    let shelter = index.all().iter().find(|s| s.id == id).ok_or_else(|| shelter_not_found(id))?;
    Ok(Json(shelter).into_response())
}

#[utoipa::path(
    post, path = "/api/v1/shelters", operation_id = "addShelter", tag = "places",
    summary = "Add a shelter (admin)",
    request_body(content = tryvoha_core::ShelterInfo, content_type = "application/json"),
    security(("bearerAuth" = [])),
    responses(
        openapi::ShelterAdminRefusals,
        (status = 201, description = "Added.", body = tryvoha_core::Shelter, content_type = "application/json"),
        (status = 400, response = openapi::ShelterBodyUnreadable),
        (status = 422, response = openapi::ShelterFieldInvalid),
    )
)]
async fn add_shelter(
    State(state): State<AppState>,
    _: Authorized<Admins>,
    JsonBody(info): JsonBody<ShelterInfo>,
) -> Result<Response, ApiError> {
    let mut added = state.places.add(vec![info]).await.map_err(|e| shelter_error(e, None))?;
    let shelter =
        added.pop().ok_or_else(|| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "nothing added"))?;
    Ok((StatusCode::CREATED, Json(shelter)).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ImportBody {
    shelters: Vec<ShelterInfo>,
}

/// The largest import accepted: 10,000 shelters are about 3 MB of JSON.
pub const MAX_IMPORT_BYTES: usize = 32 * 1024 * 1024;

#[utoipa::path(
    post, path = "/api/v1/shelters/import", operation_id = "importShelters", tag = "places",
    summary = "Add many shelters, all or nothing (admin)",
    description = "Up to 32 MiB. An invalid shelter is named as `shelters[i].field` and nothing is added. Shelters already in \
        the registry (same `name_uk` and position to 6 decimals) are skipped: importing the same file again adds \
        nothing.",
    request_body(content = ImportBody, content_type = "application/json"),
    security(("bearerAuth" = [])),
    responses(
        openapi::ShelterAdminRefusals,
        (status = 201, description = "How many were added and how many were already there.",
            body = openapi::SheltersImported, content_type = "application/json"),
        (status = 400, response = openapi::ShelterBodyUnreadable),
        (status = 413, description = "Over 32 MiB. Problem code: `body-too-large`.",
            body = openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "An invalid shelter. Problem code: `invalid-field`.",
            body = openapi::Problem, content_type = "application/problem+json"),
    )
)]
async fn import_shelters(
    State(state): State<AppState>,
    _: Authorized<Admins>,
    JsonBody(body): JsonBody<ImportBody>,
) -> Result<Response, ApiError> {
    let import = state.places.import(body.shelters).await.map_err(|e| shelter_error(e, Some("shelters")))?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "added": import.added.len(), "unchanged": import.unchanged })))
        .into_response())
}

#[utoipa::path(
    put, path = "/api/v1/shelters/{id}", operation_id = "replaceShelter", tag = "places",
    summary = "Replace a shelter (admin)",
    params(
        ("id" = u64, Path),
    ),
    request_body(content = tryvoha_core::ShelterInfo, content_type = "application/json"),
    security(("bearerAuth" = [])),
    responses(
        openapi::ShelterAdminRefusals,
        (status = 200, description = "Replaced.", body = tryvoha_core::Shelter, content_type = "application/json"),
        (status = 400, response = openapi::ShelterBodyUnreadable),
        (status = 404, response = openapi::ShelterNotFound),
        (status = 422, response = openapi::ShelterFieldInvalid),
    )
)]
async fn update_shelter(
    State(state): State<AppState>,
    _: Authorized<Admins>,
    Path(id): Path<String>,
    JsonBody(info): JsonBody<ShelterInfo>,
) -> Result<Response, ApiError> {
    let id = shelter_id(&id)?;
    let shelter = state.places.update(id, info).await.map_err(|e| shelter_error(e, None))?;
    Ok(Json(shelter).into_response())
}

#[utoipa::path(
    delete, path = "/api/v1/shelters/{id}", operation_id = "removeShelter", tag = "places",
    summary = "Remove a shelter (admin)",
    params(
        ("id" = u64, Path),
    ),
    security(("bearerAuth" = [])),
    responses(
        openapi::ShelterAdminRefusals,
        (status = 204, description = "Removed."),
        (status = 404, response = openapi::ShelterNotFound),
    )
)]
async fn remove_shelter(
    State(state): State<AppState>,
    _: Authorized<Admins>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.places.remove(shelter_id(&id)?).await.map_err(|e| shelter_error(e, None))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Not a number, or one too large to be stored: no shelter has it, and the answer says which.
pub(super) fn shelter_id(text: &str) -> Result<ShelterId, ApiError> {
    stored_id(text).map(ShelterId).ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "shelter-not-found", format!("{text:?} is not a shelter id"))
            .with_field("id")
    })
}

pub(super) fn shelter_not_found(id: ShelterId) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "shelter-not-found", format!("shelter {} does not exist", id.0))
}

/// `list`: the field holding the list, when the request carried several shelters.
fn shelter_error(error: ShelterUpdateError, list: Option<&str>) -> ApiError {
    match error {
        ShelterUpdateError::Invalid { index, error } => {
            let field = match list {
                Some(list) => format!("{list}[{index}].{}", error.field()),
                None => error.field().to_owned(),
            };
            ApiError::invalid_field(field, error.to_string())
        }
        ShelterUpdateError::NotFound { id } => shelter_not_found(ShelterId(id)),
        ShelterUpdateError::Unavailable(source) => ApiError::from(tryvoha_engine::EngineError::Unavailable(source)),
    }
}
