//! The page handlers: each reads the book (and, for a region, its record and shelters), asks
//! `tryvoha_web` for the HTML and answers it in the chosen language.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use time::Duration;
use tryvoha_core::{AlertBook, Coordinates, Level, RegionId, Shelter, ShelterState};
use tryvoha_web::Lang;
use tryvoha_web::region_page::RegionRecord;
use tryvoha_web::shelters_page::{NearShelter, Search, ShelterMark, bearing};

use super::cached::{self, Page, PageKey};
use super::language;
use crate::AppState;
use crate::body::Query;
use crate::history::real_intervals;
use crate::openapi;
use crate::places::coordinates;
use crate::problem::ApiError;
use crate::regions::find_region;
use crate::rendered::RenderFailed;
use crate::transport::compression::Precompressed;

/// The region page lists this many shelters at most.
const REGION_SHELTERS: usize = 5;
/// The region page lists this many incidents at most.
const REGION_INCIDENTS: usize = 20;
/// The shelter finder lists this many at most.
const NEAREST: usize = 10;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageQuery {
    /// `uk` or `en`; remembered in a `lang` cookie.
    pub(super) lang: Option<String>,
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

/// Answers the page in `lang` (gzipped when the client takes it), remembering a language the
/// query chose.
pub(super) fn answer(page: &Precompressed, lang: Lang, chosen: Option<Lang>, request: &HeaderMap) -> Response {
    let (body, encoding) = page.for_request(request);
    let mut response = Html(body).into_response();
    let headers = response.headers_mut();
    if let Some(encoding) = encoding {
        // Already encoded: the compression layer leaves an encoded answer alone.
        headers.insert(header::CONTENT_ENCODING, encoding);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding, Accept-Language, Cookie"));
    headers.insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(lang.code()));
    if let Some(chosen) = chosen {
        let cookie = format!("lang={}; Path=/; Max-Age=31536000; SameSite=Lax", chosen.code());
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            headers.insert(header::SET_COOKIE, value);
        }
    }
    response
}

/// The key of a page at the current log position and minute.
fn key(state: &AppState, page: Page, lang: Lang, book: &AlertBook) -> PageKey {
    PageKey { page, lang, seq: book.last_seq(), minute: state.engine.now().unix_timestamp() / 60 }
}

/// `render` with a page context made of owned parts, so that it can run on the blocking pool
/// and its page be shared.
pub(super) fn in_context(
    state: &AppState,
    lang: Lang,
    here: String,
    render: impl FnOnce(&tryvoha_web::Context<'_>) -> String + Send + 'static,
) -> impl FnOnce() -> String + Send + 'static {
    let (web, now) = (state.web.clone(), state.engine.now());
    move || {
        let context = tryvoha_web::Context { lang, assets: &web.assets, geometry: &web.geometry, now, here: &here };
        render(&context)
    }
}

pub(super) fn render_failed(_: RenderFailed) -> ApiError {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the page could not be rendered; retry")
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
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (lang, chosen) = language(query.lang.as_deref(), &headers);
    let level = query.level.unwrap_or(Level::Oblast);
    // The language switch keeps the level, and nothing else a query may carry.
    let here = if level == Level::Oblast { "/".to_owned() } else { format!("/?level={}", level.as_str()) };
    let book = state.engine.book();
    let key = key(&state, Page::Map(level), lang, &book);
    let render = in_context(&state, lang, here, move |context| tryvoha_web::map_page::map_page(context, &book, level));
    let page = state.pages.get(key, render).await.map_err(render_failed)?;
    Ok(answer(&page, lang, chosen, &headers))
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
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (lang, chosen) = language(query.lang.as_deref(), &headers);
    let book = state.engine.book();
    let region = find_region(book.registry(), &id)?.id;
    let key = key(&state, Page::Region(region), lang, &book);
    let render = async {
        let now = state.engine.now();
        let covering: Vec<RegionId> = std::iter::once(region).chain(book.registry().ancestors(region)).collect();
        let intervals: Vec<_> = real_intervals(&state, &book, Some(covering), None, (now - Duration::days(90), now))
            .await?
            .into_iter()
            .map(|(_, interval)| interval)
            .collect();
        let shelters = region_shelters(&state, &book, region);
        let incidents = region_incidents(&state, &book, region).await?;
        let book = book.clone();
        let render = in_context(&state, lang, format!("/regions/{region}"), move |context| {
            let Some(region) = book.registry().get(region) else { return String::new() };
            let record = RegionRecord { intervals: &intervals, shelters: &shelters, incidents: &incidents };
            tryvoha_web::region_page::region_page(context, &book, region, &record)
        });
        crate::rendered::off_workers(move || cached::encode(render())).await.map_err(render_failed)
    };
    let page = state.pages.get_with(key, render).await?;
    Ok(answer(&page, lang, chosen, &headers))
}

/// The incidents a region page lists: public, not closed, in the region or below it.
async fn region_incidents(
    state: &AppState,
    book: &AlertBook,
    region: RegionId,
) -> Result<Vec<tryvoha_core::Incident>, ApiError> {
    let query = tryvoha_store::IncidentQuery {
        regions: Some(crate::incidents::read::subtree(book.registry(), region)),
        statuses: vec![tryvoha_core::IncidentStatus::Active, tryvoha_core::IncidentStatus::Contained],
        public_only: true,
        limit: REGION_INCIDENTS,
        ..tryvoha_store::IncidentQuery::default()
    };
    let authority = state.live.signer.authority();
    Ok(state.engine.incidents(query).await?.into_iter().map(|i| i.published_by(authority)).collect())
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
    let statuses = state.places.statuses();
    let registry = book.registry();
    index
        .nearest_where(middle, index.len(), f64::INFINITY, |shelter| not_closed(&statuses, shelter))
        .into_iter()
        .filter(|n| {
            let at = Coordinates { lat: n.shelter.info.lat, lon: n.shelter.info.lon };
            state.places.locator().locate(at).is_some_and(|found| registry.is_within(found, region))
        })
        .take(REGION_SHELTERS)
        .map(|n| near(middle, n.shelter, (n.distance_m, n.walking_minutes), mark(&statuses, n.shelter)))
        .collect()
}

/// Pages list no shelter reported closed; a full one is listed, marked full.
fn not_closed(statuses: &tryvoha_places::Statuses, shelter: &Shelter) -> bool {
    statuses.get(&shelter.id).is_none_or(|status| status.status != ShelterState::Closed)
}

fn mark(statuses: &tryvoha_places::Statuses, shelter: &Shelter) -> Option<ShelterMark> {
    statuses.get(&shelter.id).map(|status| ShelterMark {
        full: status.status == ShelterState::Full,
        occupancy: status.occupancy,
        since: status.since,
    })
}

fn near(
    from: Coordinates,
    shelter: &Shelter,
    (distance_m, walking_minutes): (f64, u32),
    status: Option<ShelterMark>,
) -> NearShelter {
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
        status,
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
    let here = match at {
        Some(at) => format!("/shelters?lat={}&lon={}", at.lat, at.lon),
        None => "/shelters".to_owned(),
    };
    let index = state.places.shelters();
    let statuses = state.places.statuses();
    let shelters: Vec<NearShelter> = at.map_or_else(Vec::new, |at| {
        let open = |shelter: &Shelter| not_closed(&statuses, shelter);
        let nearby = index.nearest_where(at, NEAREST, state.places.shelter_distance_m(), open);
        nearby
            .into_iter()
            .map(|n| near(at, n.shelter, (n.distance_m, n.walking_minutes), mark(&statuses, n.shelter)))
            .collect()
    });
    let found = at.and_then(|at| state.places.locator().locate(at));
    let search_book = book.clone();
    let render = in_context(&state, lang, here, move |context| {
        let registry = search_book.registry();
        let named =
            found.and_then(|id| registry.get(id)).map(|r| (lang.region_name(r), search_book.region_state(r.id)));
        let search = Search { at: at.map(|c| (c.lat, c.lon)), region: named, shelters: &shelters };
        tryvoha_web::shelters_page::shelters_page(context, &search_book, &search)
    });
    let page = match at {
        // A point's page is its own: rendered for this request alone.
        Some(_) => {
            Arc::new(crate::rendered::off_workers(move || cached::encode(render())).await.map_err(render_failed)?)
        }
        None => state.pages.get(key(&state, Page::Shelters, lang, &book), render).await.map_err(render_failed)?,
    };
    Ok(answer(&page, lang, chosen, &headers))
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
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (lang, chosen) = language(query.lang.as_deref(), &headers);
    let book = state.engine.book();
    let key = key(&state, Page::Console, lang, &book);
    let render = in_context(&state, lang, "/console".to_owned(), move |context| {
        tryvoha_web::console_page::console_page(context, &book)
    });
    let page = state.pages.get(key, render).await.map_err(render_failed)?;
    Ok(answer(&page, lang, chosen, &headers))
}
