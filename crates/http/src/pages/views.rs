//! The page handlers: each reads the book (and, for a region, its record and shelters), asks
//! `tryvoha_web` for the HTML and answers it in the chosen language.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use time::Duration;
use tryvoha_core::{AlertBook, Coordinates, Level, RegionId, Shelter};
use tryvoha_web::Lang;
use tryvoha_web::region_page::RegionRecord;
use tryvoha_web::shelters_page::{NearShelter, Search, bearing};

use super::language;
use crate::AppState;
use crate::body::Query;
use crate::history::real_intervals;
use crate::openapi;
use crate::places::coordinates;
use crate::problem::ApiError;
use crate::regions::find_region;

/// The region page lists this many shelters at most.
const REGION_SHELTERS: usize = 5;
/// The shelter finder lists this many at most.
const NEAREST: usize = 10;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageQuery {
    /// `uk` or `en`; remembered in a `lang` cookie.
    lang: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct MapQuery {
    /// `uk` or `en`; remembered in a `lang` cookie.
    lang: Option<String>,
    /// The map's level.
    #[serde(default)]
    #[param(value_type = Option<String>, example = "raion")]
    level: Option<Level>,
}

/// Answers `html` in `lang`, remembering a language the query chose.
fn answer(html: String, lang: Lang, chosen: Option<Lang>) -> Response {
    let mut response = Html(html).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Language, Cookie"));
    headers.insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(lang.code()));
    if let Some(chosen) = chosen {
        let cookie = format!("lang={}; Path=/; Max-Age=31536000; SameSite=Lax", chosen.code());
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            headers.insert(header::SET_COOKIE, value);
        }
    }
    response
}

/// The path and query as the language switch rebuilds them.
fn here(path: &str, query: &Option<String>) -> String {
    match query.as_deref() {
        Some(query) if !query.is_empty() => format!("{path}?{query}"),
        _ => path.to_owned(),
    }
}

fn context<'a>(state: &'a AppState, lang: Lang, here: &'a str) -> tryvoha_web::Context<'a> {
    tryvoha_web::Context {
        lang,
        assets: &state.web.assets,
        geometry: &state.web.geometry,
        now: state.engine.now(),
        here,
    }
}

#[utoipa::path(
    get, path = "/", operation_id = "mapPage", tag = "pages",
    summary = "The live alert map",
    description = "HTML: the map at a level and the active alerts, with the current state already in the markup \
        (each region's shape carries `data-region-id` and `data-state`), kept live by a script.",
    params(MapQuery),
    responses(
        (status = 200, description = "The page.", body = String, content_type = "text/html"),
        (status = 400, response = openapi::PageQueryInvalid),
        (status = 429, response = openapi::RateLimited),
    )
)]
pub(crate) async fn map(
    State(state): State<AppState>,
    Query(query): Query<MapQuery>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let (lang, chosen) = language(query.lang.as_deref(), &headers);
    let here = here("/", &raw);
    let book = state.engine.book();
    let html =
        tryvoha_web::map_page::map_page(&context(&state, lang, &here), &book, query.level.unwrap_or(Level::Oblast));
    answer(html, lang, chosen)
}

#[utoipa::path(
    get, path = "/regions/{id}", operation_id = "regionPage", tag = "pages",
    summary = "A region's page",
    description = "HTML: the region's state, the alerts bearing on it and their instructions, its shelters, and its \
        record over 90 days in charts (each with a CSV link to the history API).",
    params(("id" = String, Path, description = "The region's id or KATOTTG code."), PageQuery),
    responses(
        (status = 200, description = "The page.", body = String, content_type = "text/html"),
        (status = 404, response = openapi::RegionNotFound),
        (status = 429, response = openapi::RateLimited),
        (status = 503, response = openapi::StorageUnavailable),
    )
)]
pub(crate) async fn region(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<PageQuery>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (lang, chosen) = language(query.lang.as_deref(), &headers);
    let book = state.engine.book();
    let region = find_region(book.registry(), &id)?;
    let now = state.engine.now();
    let covering: Vec<RegionId> = std::iter::once(region.id).chain(book.registry().ancestors(region.id)).collect();
    let intervals: Vec<_> = real_intervals(&state, &book, Some(covering), None, (now - Duration::days(90), now))
        .await?
        .into_iter()
        .map(|(_, interval)| interval)
        .collect();
    let shelters = region_shelters(&state, &book, region.id);
    let here = here(&format!("/regions/{id}"), &raw);
    let record = RegionRecord { intervals: &intervals, shelters: &shelters };
    let html = tryvoha_web::region_page::region_page(&context(&state, lang, &here), &book, region, &record);
    Ok(answer(html, lang, chosen))
}

/// The shelters inside the region, nearest its middle first.
fn region_shelters(state: &AppState, book: &AlertBook, region: RegionId) -> Vec<NearShelter> {
    let rings = state.boundaries.rings(region);
    let points: Vec<[f64; 2]> = rings.into_iter().flatten().collect();
    if points.is_empty() {
        return Vec::new();
    }
    let (lon, lat) = points.iter().fold((0.0, 0.0), |(x, y), p| (x + p[0], y + p[1]));
    let Ok(middle) = Coordinates::parse(lat / points.len() as f64, lon / points.len() as f64) else {
        return Vec::new();
    };
    let index = state.places.shelters();
    let registry = book.registry();
    index
        .nearest(middle, index.len())
        .into_iter()
        .filter(|n| {
            let at = Coordinates { lat: n.shelter.info.lat, lon: n.shelter.info.lon };
            state.places.locator().locate(at).is_some_and(|found| registry.is_within(found, region))
        })
        .take(REGION_SHELTERS)
        .map(|n| near(middle, n.shelter, n.distance_m, n.walking_minutes))
        .collect()
}

fn near(from: Coordinates, shelter: &Shelter, distance_m: f64, walking_minutes: u32) -> NearShelter {
    let info = &shelter.info;
    NearShelter {
        name_uk: info.name_uk.clone(),
        name_en: info.name_en.clone(),
        kind: serde_json::to_value(info.kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
        address: info.address.clone(),
        wheelchair: info.wheelchair,
        lat: info.lat,
        lon: info.lon,
        distance_m,
        walking_minutes: f64::from(walking_minutes),
        bearing_deg: bearing((from.lat, from.lon), (info.lat, info.lon)),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ShelterQuery {
    /// `uk` or `en`; remembered in a `lang` cookie.
    lang: Option<String>,
    #[param(minimum = -90, maximum = 90)]
    lat: Option<f64>,
    #[param(minimum = -180, maximum = 180)]
    lon: Option<f64>,
}

#[utoipa::path(
    get, path = "/shelters", operation_id = "sheltersPage", tag = "pages",
    summary = "The shelter finder",
    description = "HTML: the nearest shelters to `lat`, `lon` (or to the browser's location, by script), with distance, \
        walking time and direction, and a warning when the point is under alert.",
    params(ShelterQuery),
    responses(
        (status = 200, description = "The page.", body = String, content_type = "text/html"),
        (status = 400, response = openapi::PlaceQueryInvalid),
        (status = 429, response = openapi::RateLimited),
    )
)]
pub(crate) async fn shelters(
    State(state): State<AppState>,
    Query(query): Query<ShelterQuery>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (lang, chosen) = language(query.lang.as_deref(), &headers);
    let book = state.engine.book();
    let at = match (query.lat, query.lon) {
        (Some(lat), Some(lon)) => Some(coordinates(lat, lon)?),
        (None, None) => None,
        (Some(_), None) => return Err(ApiError::invalid_query("lon", "lon is required with lat")),
        (None, Some(_)) => return Err(ApiError::invalid_query("lat", "lat is required with lon")),
    };
    let index = state.places.shelters();
    let shelters: Vec<NearShelter> = at.map_or_else(Vec::new, |at| {
        index
            .nearest_within(at, NEAREST, state.places.shelter_distance_m())
            .into_iter()
            .map(|n| near(at, n.shelter, n.distance_m, n.walking_minutes))
            .collect()
    });
    let registry = book.registry();
    let region = at.and_then(|at| state.places.locator().locate(at)).and_then(|id| registry.get(id));
    let named = region.map(|r| (lang.region_name(r), book.region_state(r.id)));
    let search = Search { at: at.map(|c| (c.lat, c.lon)), region: named, shelters: &shelters };
    let here = here("/shelters", &raw);
    let html = tryvoha_web::shelters_page::shelters_page(&context(&state, lang, &here), &book, &search);
    Ok(answer(html, lang, chosen))
}

#[utoipa::path(
    get, path = "/console", operation_id = "consolePage", tag = "pages",
    summary = "The operator console",
    description = "HTML: sign in with a token (kept in sessionStorage, sent as a bearer header), declare for one or \
        several regions, update, give the all-clear, reinstate a mistaken all-clear. Exercise and live modes look \
        different on every screen.",
    params(PageQuery),
    responses(
        (status = 200, description = "The page.", body = String, content_type = "text/html"),
        (status = 429, response = openapi::RateLimited),
    )
)]
pub(crate) async fn console(
    State(state): State<AppState>,
    Query(query): Query<PageQuery>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let (lang, chosen) = language(query.lang.as_deref(), &headers);
    let here = here("/console", &raw);
    let book = state.engine.book();
    answer(tryvoha_web::console_page::console_page(&context(&state, lang, &here), &book), lang, chosen)
}
