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
use time::OffsetDateTime;
use time::macros::format_description;
use tryvoha_core::{Alert, AlertBook, AlertKind, AlertLevel, Level, Region, RegionId, RegionRegistry};
use tryvoha_store::{HistoryOrder, HistoryQuery};

use super::access::{Refusal, admit};
use super::air_raid::is_real;
use crate::AppState;
use crate::body::Query;
use crate::openapi;

/// How many past alarms `regionHistory` returns, as upstream does.
const HISTORY_LENGTH: usize = 25;

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

fn region_type(region: &Region) -> &'static str {
    match region.level {
        Level::Oblast => "State",
        Level::Raion => "District",
        Level::Hromada => "Community",
    }
}

fn alert_type(kind: AlertKind) -> &'static str {
    match kind {
        AlertKind::AirRaid => "AIR",
        AlertKind::ArtilleryShelling => "ARTILLERY",
        AlertKind::UrbanFights => "URBAN_FIGHTS",
        AlertKind::Chemical => "CHEMICAL",
        AlertKind::Nuclear => "NUCLEAR",
    }
}

/// `2026-09-25T08:57:49.824Z`.
fn timestamp(at: OffsetDateTime) -> String {
    at.format(format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"))
        .unwrap_or_default()
}

/// `2026-09-25T08:57:49Z`, as the history uses.
fn whole_seconds(at: OffsetDateTime) -> String {
    at.format(format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z")).unwrap_or_default()
}

#[utoipa::path(
    get, path = "/api/v3/regions", operation_id = "compat_api_v3_regions", tag = "compatible",
    summary = "ukrainealarm: the region tree",
    description = "Compatible API (docs/compat.md): the upstream wire format, not problem+json; only `actual` alerts.",
    responses(
        openapi::CompatAnswers,
        (status = 403, response = openapi::CompatKeyMissing),
    )
)]
async fn regions(caller: Caller) -> Json<Value> {
    let registry = caller.book.registry();
    fn node(registry: &RegionRegistry, region: &Region) -> Value {
        let children: Vec<Value> =
            registry.children(region.id).iter().filter_map(|id| registry.get(*id)).map(|c| node(registry, c)).collect();
        json!({ "regionId": region.id.to_string(), "regionName": region.name_uk, "regionType": region_type(region), "regionChildIds": children })
    }
    let states: Vec<Value> =
        registry.all().iter().filter(|r| r.parent_id.is_none()).map(|r| node(registry, r)).collect();
    Json(json!({ "states": states }))
}

/// A region with the real alerts covering it: its own and its ancestors'.
fn region_model(book: &AlertBook, region: &Region) -> Value {
    let registry = book.registry();
    let covering: Vec<&Alert> =
        book.active().filter(|a| is_real(a) && registry.is_within(region.id, a.region_id)).collect();
    let active: Vec<Value> = covering
        .iter()
        .map(|alert| {
            let level = match alert.level {
                AlertLevel::Red => "Red",
                AlertLevel::Yellow => "Yellow",
            };
            let reason = alert.message.as_ref().and_then(|m| m.uk.clone()).unwrap_or_default();
            let holder = registry.get(alert.region_id).unwrap_or(region);
            json!({
                "regionId": alert.region_id.to_string(),
                "regionType": region_type(holder),
                "type": alert_type(alert.kind),
                "lastUpdate": timestamp(alert.updated_at),
                "activeAlertLevels": [{ "alertLevel": level, "reason": reason, "createdAt": timestamp(alert.started_at) }],
            })
        })
        .collect();
    let last_update =
        covering.iter().map(|a| a.updated_at).max().or(book.last_change_at()).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    json!({
        "regionId": region.id.to_string(),
        "regionType": region_type(region),
        "regionName": region.name_uk,
        "regionEngName": region.name_en,
        "lastUpdate": timestamp(last_update),
        "activeAlerts": active,
    })
}

#[utoipa::path(
    get, path = "/api/v3/alerts", operation_id = "compat_api_v3_alerts", tag = "compatible",
    summary = "ukrainealarm: regions with alerts",
    description = "Compatible API (docs/compat.md): the upstream wire format, not problem+json; only `actual` alerts.",
    responses(
        openapi::CompatAnswers,
        (status = 403, response = openapi::CompatKeyMissing),
    )
)]
async fn all_alerts(caller: Caller) -> Json<Value> {
    let book = &caller.book;
    let registry = book.registry();
    let mut with_alerts: Vec<RegionId> = book.active().filter(|a| is_real(a)).map(|a| a.region_id).collect();
    with_alerts.sort();
    with_alerts.dedup();
    let models: Vec<Value> =
        with_alerts.iter().filter_map(|id| registry.get(*id)).map(|r| region_model(book, r)).collect();
    Json(Value::Array(models))
}

#[utoipa::path(
    get, path = "/api/v3/alerts/{region}", operation_id = "compat_api_v3_alerts_region", tag = "compatible",
    summary = "ukrainealarm: one region",
    description = "Compatible API (docs/compat.md): the upstream wire format, not problem+json; only `actual` alerts.",
    params(
        ("region" = String, Path),
    ),
    responses(
        openapi::CompatAnswers,
        (status = 403, response = openapi::CompatKeyMissing),
        (status = 404,
            description = "No region has this id (`{\"message\": \"Unknown regionId\"}`).",
            body = openapi::CompatMessage, content_type = "application/json"),
    )
)]
async fn region_alerts(caller: Caller, Path(region): Path<String>) -> Response {
    let registry = caller.book.registry();
    match region.parse().ok().and_then(|id| registry.get(RegionId(id))) {
        Some(region) => Json(json!([region_model(&caller.book, region)])).into_response(),
        None => (StatusCode::NOT_FOUND, Json(json!({ "message": "Unknown regionId" }))).into_response(),
    }
}

#[utoipa::path(
    get, path = "/api/v3/alerts/status", operation_id = "compat_api_v3_alerts_status", tag = "compatible",
    summary = "ukrainealarm: last action index",
    description = "Compatible API (docs/compat.md): the upstream wire format, not problem+json; only `actual` alerts.",
    responses(
        openapi::CompatAnswers,
        (status = 403, response = openapi::CompatKeyMissing),
    )
)]
async fn status(caller: Caller) -> Json<Value> {
    // Any number that grows with every change will do: the log's sequence number does.
    Json(json!({ "lastActionIndex": caller.book.last_seq() }))
}

#[derive(Deserialize)]
struct HistoryParameters {
    #[serde(rename = "regionId")]
    region_id: Option<String>,
}

#[utoipa::path(
    get, path = "/api/v3/alerts/regionHistory", operation_id = "compat_api_v3_alerts_regionHistory", tag = "compatible",
    summary = "ukrainealarm: the last 25 alarms of a region",
    description = "Compatible API (docs/compat.md): the upstream wire format, not problem+json; only `actual` alerts.",
    params(("regionId" = String, Query, description = "The region's id, e.g. `14`.")),
    responses(
        openapi::CompatAnswers,
        (status = 400, description = "`regionId` is missing or not a region id.",
            body = openapi::CompatMessage, content_type = "application/json"),
        (status = 403, response = openapi::CompatKeyMissing),
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
    // The alarms that covered the region: on it or on an ancestor.
    let covering: Vec<RegionId> = std::iter::once(region.id).chain(registry.ancestors(region.id)).collect();
    let query = HistoryQuery {
        regions: Some(covering),
        order: HistoryOrder::Latest(HISTORY_LENGTH),
        ..HistoryQuery::default()
    };
    let Ok(records) = state.engine.history(query).await else {
        return (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "message": "retry" }))).into_response();
    };
    let alarms: Vec<Value> = records
        .iter()
        .filter(|r| r.status == tryvoha_core::AlertStatus::Actual)
        .map(|r| {
            let seconds = (r.finished_at - r.started_at).whole_seconds().max(0);
            let name = registry.get(r.region_id).map_or("", |g| g.name_uk.as_str());
            json!({
                "regionId": r.region_id.to_string(),
                "regionName": name,
                "startDate": whole_seconds(r.started_at),
                "endDate": whole_seconds(r.finished_at),
                "duration": format!("{:02}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60),
                "alertType": alert_type(r.kind),
                "isContinue": false,
            })
        })
        .collect();
    Json(json!([{ "regionId": region.id.to_string(), "regionName": region.name_uk, "alarms": alarms }])).into_response()
}
