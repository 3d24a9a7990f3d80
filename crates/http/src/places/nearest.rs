//! `GET /api/v1/shelters/nearest`: the nearest shelters that will let people in, with the
//! distance, the walking time and the status reported tonight (and how old it is).

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tryvoha_core::{Shelter, ShelterState};

use super::coordinates;
use super::shelter_status::StatusView;
use crate::AppState;
use crate::body::Query;
use crate::openapi;
use crate::problem::ApiError;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct NearestQuery {
    #[param(minimum = -90, maximum = 90)]
    lat: f64,
    #[param(minimum = -180, maximum = 180)]
    lon: f64,
    #[param(value_type = Option<u64>, minimum = 1, maximum = 50, default = 5)]
    limit: Option<usize>,
    /// Only shelters at most this many metres away; default: the server's `shelter_max_distance_m` (20,000
    /// unless configured).
    #[param(exclusive_minimum = 0, maximum = 20000000)]
    max_distance_m: Option<f64>,
    /// Also offer shelters reported full (closed ones never are).
    #[param(default = false)]
    include_full: Option<bool>,
}

const MAX_NEAREST: usize = 50;
/// The largest `max_distance_m`: half the Earth's circumference, anything anywhere.
const MAX_SHELTER_DISTANCE_M: f64 = 20_000_000.0;

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = NearbyShelter)]
struct NearbyView<'a> {
    #[serde(flatten)]
    shelter: &'a Shelter,
    /// Geodesic distance on WGS 84, metres, to 0.1 m.
    distance_m: f64,
    /// Estimate: distance × 1.3 at 5 km/h, rounded up.
    walking_minutes: u32,
    /// The status last reported (absent: none was, the registry's opening hours apply).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    status: Option<StatusView>,
}

#[utoipa::path(
    get, path = "/api/v1/shelters/nearest", operation_id = "nearestShelters", tag = "places",
    summary = "The nearest open shelters with distance, walking time and status",
    description = "Shelters reported closed are never offered, nor those reported full unless `include_full=true`.",
    params(NearestQuery),
    responses(
        (status = 200,
            description = "Nearest first; an empty list with a `message` when no shelter is within `max_distance_m`.",
            body = Nearby, content_type = "application/json"),
        (status = 400, response = openapi::PlaceQueryInvalid),
        (status = 429, response = openapi::RateLimited),
    )
)]
pub(super) async fn nearest(
    State(state): State<AppState>,
    Query(query): Query<NearestQuery>,
) -> Result<Response, ApiError> {
    let at = coordinates(query.lat, query.lon)?;
    let limit = query.limit.unwrap_or(5);
    if limit == 0 || limit > MAX_NEAREST {
        return Err(ApiError::invalid_query("limit", format!("limit must be 1 to {MAX_NEAREST}")));
    }
    let max_distance_m = query.max_distance_m.unwrap_or(state.places.shelter_distance_m());
    if !(max_distance_m > 0.0 && max_distance_m <= MAX_SHELTER_DISTANCE_M) {
        return Err(ApiError::invalid_query(
            "max_distance_m",
            format!("max_distance_m must be more than 0 and at most {MAX_SHELTER_DISTANCE_M} metres"),
        ));
    }
    let include_full = query.include_full.unwrap_or(false);
    let index = state.places.shelters();
    let statuses = state.places.statuses();
    let now = OffsetDateTime::now_utc();
    let open = |shelter: &Shelter| match statuses.get(&shelter.id).map(|status| status.status) {
        Some(ShelterState::Closed) => false,
        Some(ShelterState::Full) => include_full,
        Some(ShelterState::Open) | None => true,
    };
    let nearby: Vec<NearbyView<'_>> = index
        .nearest_where(at, limit, max_distance_m, open)
        .into_iter()
        .map(|n| NearbyView {
            shelter: n.shelter,
            distance_m: (n.distance_m * 10.0).round() / 10.0,
            walking_minutes: n.walking_minutes,
            status: statuses.get(&n.shelter.id).map(|status| StatusView::new(status, now)),
        })
        .collect();
    // An empty list says why, so that an app shows "no known shelter near you" and not nothing.
    let message =
        nearby.is_empty().then(|| format!("no known shelter within {max_distance_m} m of this point is open"));
    Ok(Json(Nearby { lat: at.lat, lon: at.lon, max_distance_m, message, shelters: nearby }).into_response())
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = NearbyShelters)]
struct Nearby<'a> {
    lat: f64,
    lon: f64,
    /// The distance the answer was limited to, metres.
    max_distance_m: f64,
    /// Present only when `shelters` is empty: that no open shelter is known within `max_distance_m`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    message: Option<String>,
    shelters: Vec<NearbyView<'a>>,
}
