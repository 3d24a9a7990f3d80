//! alerts.in.ua v1 (and the v2 IoT strings): `/v1/alerts/active.json`, the history of a
//! region, and the compact IoT strings. Exact shapes: docs/compat.md.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use time::format_description::well_known::Rfc2822;
use time::macros::format_description;
use time::{Duration, OffsetDateTime};
use tryvoha_compat::alerts_in_ua::{self as wire, Envelope};
use tryvoha_compat::{AirRaid, IotVersion};
use tryvoha_core::{AlertBook, RegionId};
use tryvoha_store::HistoryQuery;

use super::DESCRIPTION;
use super::access::{Refusal, admit};
use crate::AppState;
use crate::openapi;

pub(crate) mod iot;

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
    fn last_modified(&self) -> OffsetDateTime {
        wire::last_modified(&self.book)
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

fn envelope(reader: &Reader, alerts: Vec<serde_json::Value>) -> Response {
    Json(Envelope::new(alerts, reader.last_modified())).into_response()
}

#[utoipa::path(
    get,
    path = "/v1/alerts/active.json",
    operation_id = "compat_v1_alerts_active_json",
    tag = "compatible",
    summary = "alerts.in.ua: active alerts",
    description = DESCRIPTION,
    responses(openapi::CompatAnswers,)
)]
async fn active(reader: Reader) -> Response {
    reader.answer(|| envelope(&reader, wire::active_alerts(&reader.book)))
}

#[utoipa::path(
    get, path = "/v1/regions/{uid}/alerts/{period}",
    operation_id = "compat_v1_regions_uid_alerts_period", tag = "compatible",
    summary = "alerts.in.ua: a region's history (period month_ago.json or week_ago.json)",
    description = DESCRIPTION,
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
    let registry = reader.book.registry();
    let Some(region) = uid.parse().ok().map(RegionId).filter(|id| registry.get(*id).is_some()) else {
        return message(StatusCode::NOT_FOUND, "Unknown location uid");
    };
    let from = state.engine.now() - Duration::days(days);
    let regions = Some(wire::history_regions(registry, region));
    let query = HistoryQuery { regions, from: Some(from), ..HistoryQuery::default() };
    let records = match state.engine.history(query).await {
        Ok(records) => records,
        Err(_) => return message(StatusCode::SERVICE_UNAVAILABLE, "Service unavailable, retry"),
    };
    reader.answer(|| envelope(&reader, wire::history_alerts(&records, &reader.book, region, from)))
}

/// A JSON string, exactly: the quotes and the letters, nothing else.
fn iot_string(reader: &Reader, text: String) -> Response {
    reader.answer(|| {
        let body = serde_json::to_string(&text).unwrap_or_default();
        ([(header::CONTENT_TYPE, "application/json")], body).into_response()
    })
}

async fn by_oblast(reader: Reader, version: IotVersion) -> Response {
    iot_string(&reader, wire::by_oblast(&reader.book, version))
}

async fn every_uid(reader: Reader, version: IotVersion) -> Response {
    iot_string(&reader, wire::every_uid(&reader.book, version))
}

async fn one_uid(reader: Reader, Path(uid): Path<String>, version: IotVersion) -> Response {
    let id = uid.strip_suffix(".json").and_then(|n| n.parse().ok()).map(RegionId);
    match id.filter(|id| reader.book.registry().get(*id).is_some()) {
        Some(id) => iot_string(&reader, AirRaid::of(&reader.book, id).letter(version).to_string()),
        None => message(StatusCode::NOT_FOUND, "Unknown location uid"),
    }
}
