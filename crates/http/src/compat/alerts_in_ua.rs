//! alerts.in.ua v1 (and the v2 IoT strings): `/v1/alerts/active.json`, the history of a
//! region, and the compact IoT strings. Exact shapes: docs/compat.md.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::json;
use time::format_description::well_known::Rfc2822;
use time::macros::format_description;
use time::{Duration, OffsetDateTime};
use tryvoha_core::{Alert, AlertBook, Level, Region, RegionId, RegionRegistry, Threat};
use tryvoha_store::{HistoryQuery, HistoryRecord};

use super::access::{Refusal, admit};
use super::air_raid::{AirRaid, IotVersion, is_real};
use crate::AppState;
use crate::openapi;

pub(crate) mod iot;

/// The order of the 27 characters of `active_air_raid_alerts_by_oblast.json`, fixed by the API.
const OBLAST_ORDER: [u32; 27] =
    [29, 8, 4, 9, 28, 10, 11, 12, 13, 31, 14, 15, 16, 27, 17, 18, 19, 5, 30, 20, 21, 22, 23, 3, 24, 26, 25];
/// Ids from here up are tryvoha's reserved range (docs/regions.md), unknown to these clients.
const RESERVED_IDS: u32 = 100_001;
const DISCLAIMER: &str = "Served by tryvoha, compatible with the alerts.in.ua API.";

pub fn router() -> Router<AppState> {
    Router::new()
        .nest(
            "/v1",
            iot::router(IotVersion::V1)
                .route("/alerts/active.json", get(active))
                .route("/regions/{uid}/alerts/{period}", get(history)),
        )
        .nest("/v2", iot::router(IotVersion::V2))
}

/// A reader admitted by `?token=` or `Authorization: Bearer`, with the book it reads.
struct Reader {
    book: std::sync::Arc<AlertBook>,
    if_modified_since: Option<OffsetDateTime>,
}

impl FromRequestParts<AppState> for Reader {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let from_query = parts
            .uri
            .query()
            .into_iter()
            .flat_map(|q| form_urlencoded::parse(q.as_bytes()))
            .find(|(k, _)| k == "token");
        let from_header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.to_owned());
        let secret = from_header.or(from_query.map(|(_, v)| v.into_owned()));
        admit(state, parts, secret.as_deref()).await.map_err(refusal)?;
        // An empty or unreadable If-Modified-Since counts as absent (the community client sends
        // an empty one first).
        let if_modified_since = parts
            .headers
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| OffsetDateTime::parse(v.trim(), &Rfc2822).ok());
        Ok(Reader { book: state.engine.book(), if_modified_since })
    }
}

fn refusal(refusal: Refusal) -> Response {
    let (status, message) = match refusal {
        Refusal::NoToken => (StatusCode::UNAUTHORIZED, "API token required"),
        Refusal::BadToken => (StatusCode::UNAUTHORIZED, "API token is invalid or revoked"),
        Refusal::TooManyRequests(wait) => {
            let response = (StatusCode::TOO_MANY_REQUESTS, Json(json!({ "message": "Too many requests" })));
            return crate::limits::with_retry_after(response.into_response(), wait);
        }
        Refusal::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "Service unavailable, retry"),
    };
    (status, Json(json!({ "message": message }))).into_response()
}

fn message(status: StatusCode, text: &str) -> Response {
    (status, Json(json!({ "message": text }))).into_response()
}

impl Reader {
    /// When the answer last changed: the latest event, at whole seconds as HTTP dates are.
    fn last_modified(&self) -> OffsetDateTime {
        let at = self.book.last_change_at().unwrap_or(OffsetDateTime::UNIX_EPOCH);
        at.replace_nanosecond(0).unwrap_or(at)
    }

    /// 304 when the client has this version already; otherwise `body` with `Last-Modified`.
    fn answer(&self, body: impl FnOnce() -> Response) -> Response {
        let last_modified = self.last_modified();
        let header_value = http_date(last_modified);
        if self.if_modified_since.is_some_and(|since| since >= last_modified) {
            return (StatusCode::NOT_MODIFIED, [(header::LAST_MODIFIED, header_value)]).into_response();
        }
        let mut response = body();
        response.headers_mut().insert(header::LAST_MODIFIED, header_value);
        response
    }
}

fn http_date(at: OffsetDateTime) -> HeaderValue {
    let format =
        format_description!("[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT");
    HeaderValue::from_str(&at.format(format).unwrap_or_default()).unwrap_or(HeaderValue::from_static(""))
}

/// `2024-05-06T10:02:45.123Z`: the exact form the official client parses.
fn timestamp(at: OffsetDateTime) -> String {
    let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    at.format(format).unwrap_or_default()
}

/// `2024/05/06 10:02:45 +0000`, for `meta.last_updated_at`.
fn meta_time(at: OffsetDateTime) -> String {
    let format = format_description!("[year]/[month]/[day] [hour]:[minute]:[second] +0000");
    at.format(format).unwrap_or_default()
}

#[derive(Serialize)]
struct Envelope {
    alerts: Vec<serde_json::Value>,
    meta: serde_json::Value,
    disclaimer: &'static str,
}

fn envelope(reader: &Reader, alerts: Vec<serde_json::Value>) -> Response {
    let meta = json!({ "last_updated_at": meta_time(reader.last_modified()), "type": "full" });
    Json(Envelope { alerts, meta, disclaimer: DISCLAIMER }).into_response()
}

#[utoipa::path(
    get,
    path = "/v1/alerts/active.json",
    operation_id = "compat_v1_alerts_active_json",
    tag = "compatible",
    summary = "alerts.in.ua: active alerts",
    description = "Compatible API (docs/compat.md): the upstream wire format, not problem+json; only `actual` alerts.",
    responses(openapi::CompatAnswers,)
)]
async fn active(reader: Reader) -> Response {
    reader.answer(|| {
        let registry = reader.book.registry();
        let alerts = reader.book.active().filter(|a| is_real(a)).filter_map(|a| alert_json(a, registry)).collect();
        envelope(&reader, alerts)
    })
}

/// One alert in the wire shape, with its threats (active alerts) and place names.
fn alert_json(alert: &Alert, registry: &RegionRegistry) -> Option<serde_json::Value> {
    let mut value = location_json(registry, alert.region_id)?;
    let threats: Vec<_> = alert
        .threats
        .iter()
        .map(|t| json!({ "threat_type": threat_name(*t), "level": alert.level.as_str(), "started_at": timestamp(alert.started_at), "source_message": null }))
        .collect();
    let extra = json!({
        "id": alert.id.0,
        "started_at": timestamp(alert.started_at),
        "finished_at": alert.finished_at.map(timestamp),
        "updated_at": timestamp(alert.updated_at),
        "alert_type": alert.kind.as_str(),
        "alert_level": alert.level.as_str(),
        "threats": threats,
        "notes": alert.message.as_ref().and_then(|m| m.uk.clone()),
    });
    merge(&mut value, extra);
    Some(value)
}

fn history_json(record: &HistoryRecord, registry: &RegionRegistry) -> Option<serde_json::Value> {
    let mut value = location_json(registry, record.region_id)?;
    merge(
        &mut value,
        json!({
            "id": record.id,
            "started_at": timestamp(record.started_at),
            "finished_at": timestamp(record.finished_at),
            "updated_at": timestamp(record.finished_at),
            "alert_type": record.kind.as_str(),
            "alert_level": record.level.as_str(),
            "notes": null,
            "calculated": false,
        }),
    );
    Some(value)
}

/// The location fields: titles, type, uid (a string), oblast (uid an int), raion when below one.
fn location_json(registry: &RegionRegistry, id: RegionId) -> Option<serde_json::Value> {
    let region = registry.get(id)?;
    let chain: Vec<&Region> =
        std::iter::once(region).chain(registry.ancestors(id).filter_map(|a| registry.get(a))).collect();
    let oblast = chain.iter().find(|r| r.level == Level::Oblast)?;
    let mut value = json!({
        "location_title": region.name_uk,
        "location_title_en": region.name_en,
        "location_type": region.level.as_str(),
        "location_uid": region.id.to_string(),
        "location_oblast": oblast.name_uk,
        "location_oblast_uid": oblast.id.0,
        "notes": null,
        "country": null,
        "calculated": null,
    });
    if let Some(raion) = chain.iter().find(|r| r.level == Level::Raion) {
        value["location_raion"] = json!(raion.name_uk);
    }
    Some(value)
}

fn merge(into: &mut serde_json::Value, from: serde_json::Value) {
    if let (Some(into), serde_json::Value::Object(from)) = (into.as_object_mut(), from) {
        into.extend(from);
    }
}

fn threat_name(threat: Threat) -> &'static str {
    match threat {
        Threat::Drones => "drones",
        Threat::BallisticMissiles => "ballistic_missiles",
        Threat::CruiseMissiles => "cruise_missiles",
        Threat::GuidedAerialBombs => "guided_aerial_bombs",
        Threat::Aviation => "tactic_aircraft_activity",
        Threat::Artillery => "unknown",
    }
}

#[utoipa::path(
    get, path = "/v1/regions/{uid}/alerts/{period}",
    operation_id = "compat_v1_regions_uid_alerts_period", tag = "compatible",
    summary = "alerts.in.ua: a region's history (period month_ago.json or week_ago.json)",
    description = "Compatible API (docs/compat.md): the upstream wire format, not problem+json; only `actual` alerts.",
    params(
        ("uid" = String, Path),
        ("period" = String, Path),
    ),
    responses(
        openapi::CompatAnswers,
        (status = 404, response = openapi::CompatUnknownLocation),
    )
)]
async fn history(
    State(state): State<AppState>,
    reader: Reader,
    Path((uid, period)): Path<(String, String)>,
) -> Response {
    let days = match period.as_str() {
        "month_ago.json" => 30,
        "week_ago.json" => 7,
        _ => return message(StatusCode::NOT_FOUND, "Unknown period: use month_ago or week_ago"),
    };
    let registry = reader.book.registry().clone();
    let Some(region) = uid.parse().ok().map(RegionId).filter(|id| registry.get(*id).is_some()) else {
        return message(StatusCode::NOT_FOUND, "Unknown location uid");
    };
    // The region and everything below it: an oblast's history holds its raions' alerts too.
    let subtree: Vec<RegionId> =
        registry.all().iter().filter(|r| registry.is_within(r.id, region)).map(|r| r.id).collect();
    let from = state.engine.now() - Duration::days(days);
    let query = HistoryQuery { regions: Some(subtree), from: Some(from), ..HistoryQuery::default() };
    let records = match state.engine.history(query).await {
        Ok(records) => records,
        Err(_) => return message(StatusCode::SERVICE_UNAVAILABLE, "Service unavailable, retry"),
    };
    reader.answer(|| {
        let mut alerts: Vec<serde_json::Value> = records
            .iter()
            .filter(|r| r.status == tryvoha_core::AlertStatus::Actual)
            .filter_map(|r| history_json(r, &registry))
            .collect();
        let ongoing = reader
            .book
            .active()
            .filter(|a| is_real(a) && registry.is_within(a.region_id, region) && a.started_at >= from);
        alerts.extend(ongoing.filter_map(|a| alert_json(a, &registry)));
        envelope(&reader, alerts)
    })
}

/// A JSON string, exactly: the quotes and the letters, nothing else.
fn iot_string(reader: &Reader, text: String) -> Response {
    reader.answer(|| {
        let body = serde_json::to_string(&text).unwrap_or_default();
        ([(header::CONTENT_TYPE, "application/json")], body).into_response()
    })
}

async fn by_oblast(reader: Reader, version: IotVersion) -> Response {
    let text = OBLAST_ORDER.iter().map(|&uid| AirRaid::of(&reader.book, RegionId(uid)).letter(version)).collect();
    iot_string(&reader, text)
}

async fn every_uid(reader: Reader, version: IotVersion) -> Response {
    let registry = reader.book.registry();
    let ids: Vec<u32> = registry.all().iter().map(|r| r.id.0).filter(|&id| id < RESERVED_IDS).collect();
    let length = ids.iter().max().map_or(0, |max| *max as usize + 1);
    let mut letters = vec![' '; length];
    for id in ids {
        letters[id as usize] = AirRaid::of(&reader.book, RegionId(id)).letter(version);
    }
    iot_string(&reader, letters.into_iter().collect())
}

async fn one_uid(reader: Reader, Path(uid): Path<String>, version: IotVersion) -> Response {
    let id = uid.strip_suffix(".json").and_then(|n| n.parse().ok()).map(RegionId);
    match id.filter(|id| reader.book.registry().get(*id).is_some()) {
        Some(id) => iot_string(&reader, AirRaid::of(&reader.book, id).letter(version).to_string()),
        None => message(StatusCode::NOT_FOUND, "Unknown location uid"),
    }
}
