//! `/regions`: the registry with each region's live state.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tryvoha_core::{Alert, AlertBook, Level, Region, RegionId, RegionState};

use crate::AppState;
use crate::body::Query;
use crate::openapi;
use crate::problem::ApiError;

pub(crate) mod shelter_time;

pub fn router() -> Router<AppState> {
    Router::new().route("/regions", get(list)).route("/regions/{id}", get(one).patch(shelter_time::change))
}

/// A region with its current state.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RegionView<'a> {
    pub id: RegionId,
    /// Null for a top-level region (oblast).
    #[schema(required = true)]
    pub parent_id: Option<RegionId>,
    pub level: Level,
    /// The code in the national codifier (KATOTTG in Ukraine), e.g. `UA…`; unique when present, null when the
    /// region has none.
    #[schema(required = true)]
    pub katottg: Option<&'a str>,
    pub name_uk: &'a str,
    pub name_en: &'a str,
    pub state: RegionState,
    /// The seconds people here have to reach a shelter once an alert starts: set on the region
    /// or inherited from its nearest ancestor; omitted where none is configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, maximum = 3600)]
    pub shelter_within_s: Option<u32>,
}

impl<'a> RegionView<'a> {
    pub fn new(region: &'a Region, book: &AlertBook) -> RegionView<'a> {
        RegionView {
            id: region.id,
            parent_id: region.parent_id,
            level: region.level,
            katottg: region.code.as_deref(),
            name_uk: &region.name_uk,
            name_en: &region.name_en,
            state: book.region_state(region.id),
            shelter_within_s: book.shelter_times().within(region.id, book.registry()),
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct ListQuery {
    level: Option<Level>,
    parent_id: Option<RegionId>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct RegionList<'a> {
    regions: Vec<RegionView<'a>>,
}

#[utoipa::path(
    get, path = "/api/v1/regions", operation_id = "listRegions", tag = "regions",
    summary = "List regions with their state",
    description = "Every region in registry order, optionally filtered, each with its current state. No token needed.",
    params(
        ("level" = Option<tryvoha_core::Level>, Query,
            description = "Only regions of this tier."),
        ("parent_id" = Option<tryvoha_core::RegionId>, Query,
            description = "Only the direct children of this region."),
    ),
    responses(
        (status = 200, description = "The matching regions.", body = RegionList, content_type = "application/json"),
        (status = 400,
            description = "A query parameter is unknown or has a value that is not accepted; `field` names it. Problem code: \
                `invalid-query`.",
            body = openapi::Problem, content_type = "application/problem+json"),
        (status = 429, response = openapi::RateLimited),
    )
)]
async fn list(State(state): State<AppState>, Query(query): Query<ListQuery>) -> Json<serde_json::Value> {
    let book = state.engine.book();
    let regions = book
        .registry()
        .all()
        .iter()
        .filter(|r| query.level.is_none_or(|level| r.level == level))
        .filter(|r| query.parent_id.is_none_or(|parent| r.parent_id == Some(parent)))
        .map(|r| RegionView::new(r, &book))
        .collect();
    Json(serde_json::to_value(RegionList { regions }).unwrap_or_default())
}

/// A region by numeric id or KATOTTG code, or 404 `region-not-found`.
pub fn find_region<'a>(registry: &'a tryvoha_core::RegionRegistry, id: &str) -> Result<&'a Region, ApiError> {
    match id.parse::<u32>() {
        Ok(number) => registry.get(RegionId(number)),
        Err(_) => registry.by_code(id),
    }
    .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "region-not-found", format!("no region has id or code {id:?}")))
}

/// A region with its state and the alerts that bear on it.
#[derive(Serialize, utoipa::ToSchema)]
struct RegionDetail<'a> {
    #[serde(flatten)]
    region: RegionView<'a>,
    /// Active alerts on the region, its ancestors or its descendants, as published.
    alerts: Vec<Alert>,
}

/// By numeric id or by KATOTTG code (`UA…`).
#[utoipa::path(
    get, path = "/api/v1/regions/{id}", operation_id = "getRegion", tag = "regions",
    summary = "Get a region with its state and alerts",
    description = "A region by numeric id or by KATOTTG code, with its state and the active alerts that bear on it. No token \
        needed.",
    params(
        ("id" = String, Path,
            description = "A numeric region id (e.g. `14`) or a KATOTTG code (e.g. `UA…`)."),
    ),
    responses(
        (status = 200, description = "The region.", body = RegionDetail, content_type = "application/json"),
        (status = 404, response = openapi::RegionNotFound),
        (status = 429, response = openapi::RateLimited),
    )
)]
async fn one(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<serde_json::Value>, ApiError> {
    let book = state.engine.book();
    let registry = book.registry();
    let region = match id.parse::<u32>() {
        Ok(number) => registry.get(RegionId(number)),
        Err(_) => registry.by_code(&id),
    }
    .ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "region-not-found", format!("no region has id or code {id:?}"))
    })?;
    let authority = state.live.signer.authority();
    let alerts = book.alerts_bearing_on(region.id).map(|alert| alert.published_by(authority)).collect();
    let detail = RegionDetail { region: RegionView::new(region, &book), alerts };
    Ok(Json(serde_json::to_value(detail).unwrap_or_default()))
}
