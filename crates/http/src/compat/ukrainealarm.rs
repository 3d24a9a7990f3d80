//! ukrainealarm v3 (and siren.pp.ua, its key-less mirror): `/api/v3/regions`, `/alerts`,
//! `/alerts/{regionId}`, `/alerts/status`, `/alerts/regionHistory`. Exact shapes: docs/compat.md.

use axum::Json;
use axum::Router;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};
use tryvoha_compat::ukrainealarm as wire;
use tryvoha_core::{AlertBook, RegionId};
use tryvoha_store::{HistoryOrder, HistoryQuery};

use super::DESCRIPTION;
use super::access::{Refusal, admit};
use crate::AppState;
use crate::body::Query;
use crate::openapi;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v3/regions", get(regions))
        .route("/api/v3/alerts", get(all_alerts))
        .route("/api/v3/alerts/status", get(status))
        .route("/api/v3/alerts/regionHistory", get(region_history))
        .route("/api/v3/alerts/{region}", get(region_alerts))
}

/// A caller admitted by `Authorization: <key>` (no scheme; `Bearer` accepted too), or by the
/// anonymous mode.
struct Caller {
    book: std::sync::Arc<AlertBook>,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let key = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(|v| {
            let v = v.trim();
            v.split_once(' ')
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map_or(v, |(_, key)| key)
                .to_owned()
        });
        admit(state, parts, key.as_deref()).await.map_err(|refusal| {
            // Upstream: no key is 403, a wrong key 401 with an empty body.
            let status = match refusal {
                Refusal::NoToken => StatusCode::FORBIDDEN,
                Refusal::BadToken => StatusCode::UNAUTHORIZED,
                Refusal::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
                Refusal::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            };
            let body = match refusal {
                Refusal::TooManyRequests(_) => json!({ "message": "Too many requests" }).to_string(),
                _ => String::new(),
            };
            let response = (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
            match refusal {
                Refusal::TooManyRequests(wait) => crate::limits::with_retry_after(response, wait),
                _ => response,
            }
        })?;
        Ok(Caller { book: state.engine.book() })
    }
}

#[utoipa::path(
    get, path = "/api/v3/regions", operation_id = "compat_api_v3_regions", tag = "compatible",
    summary = "ukrainealarm: the region tree",
    description = DESCRIPTION,
    responses(openapi::CompatAnswers, openapi::CompatKeyRequired)
)]
async fn regions(caller: Caller) -> Json<Value> {
    Json(wire::regions(caller.book.registry()))
}

#[utoipa::path(
    get, path = "/api/v3/alerts", operation_id = "compat_api_v3_alerts", tag = "compatible",
    summary = "ukrainealarm: regions with alerts",
    description = DESCRIPTION,
    responses(openapi::CompatAnswers, openapi::CompatKeyRequired)
)]
async fn all_alerts(caller: Caller) -> Json<Value> {
    Json(wire::all_alerts(&caller.book))
}

#[utoipa::path(
    get, path = "/api/v3/alerts/{region}", operation_id = "compat_api_v3_alerts_region", tag = "compatible",
    summary = "ukrainealarm: one region",
    description = DESCRIPTION,
    params(
        ("region" = String, Path),
    ),
    responses(
        openapi::CompatAnswers,
        openapi::CompatKeyRequired,
        (status = 404,
            description = "No region has this id (`{\"message\": \"Unknown regionId\"}`).",
            body = openapi::CompatMessage, content_type = "application/json"),
    )
)]
async fn region_alerts(caller: Caller, Path(region): Path<String>) -> Response {
    let registry = caller.book.registry();
    match region.parse().ok().and_then(|id| registry.get(RegionId(id))) {
        Some(region) => Json(json!([wire::region_model(&caller.book, region)])).into_response(),
        None => (StatusCode::NOT_FOUND, Json(json!({ "message": "Unknown regionId" }))).into_response(),
    }
}

#[utoipa::path(
    get, path = "/api/v3/alerts/status", operation_id = "compat_api_v3_alerts_status", tag = "compatible",
    summary = "ukrainealarm: last action index",
    description = DESCRIPTION,
    responses(openapi::CompatAnswers, openapi::CompatKeyRequired)
)]
async fn status(caller: Caller) -> Json<Value> {
    Json(wire::status(&caller.book))
}

#[derive(Deserialize)]
pub(crate) struct HistoryParameters {
    #[serde(rename = "regionId")]
    region_id: Option<String>,
}

#[utoipa::path(
    get, path = "/api/v3/alerts/regionHistory", operation_id = "compat_api_v3_alerts_regionHistory", tag = "compatible",
    summary = "ukrainealarm: the last 25 alarms of a region",
    description = DESCRIPTION,
    params(("regionId" = String, Query, description = "The region's id, e.g. `14`.")),
    responses(
        openapi::CompatAnswers,
        (status = 400, description = "`regionId` is missing or not a region id.",
            body = openapi::CompatMessage, content_type = "application/json"),
        openapi::CompatKeyRequired,
    )
)]
async fn region_history(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<HistoryParameters>,
) -> Response {
    let registry = caller.book.registry().clone();
    let Some(region) =
        query.region_id.as_deref().and_then(|id| id.parse().ok()).and_then(|id| registry.get(RegionId(id)))
    else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "message": "regionId is required and must be a known region" })),
        )
            .into_response();
    };
    let query = HistoryQuery {
        regions: Some(wire::history_regions(&registry, region.id)),
        order: HistoryOrder::Latest(wire::HISTORY_LENGTH),
        ..HistoryQuery::default()
    };
    let Ok(records) = state.engine.history(query).await else {
        return (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "message": "retry" }))).into_response();
    };
    Json(wire::region_history(&records, &registry, region)).into_response()
}
