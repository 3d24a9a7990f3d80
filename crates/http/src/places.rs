//! `/locate`, `/regions.geojson` and `/shelters`: where a point is, maps with live state, and
//! the nearest shelters.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tryvoha_core::{AlertBook, Coordinates, Level, RegionId, RegionRegistry, Seq};

use crate::AppState;
use crate::body::Query;
use crate::openapi;
use crate::problem::ApiError;
use crate::regions::RegionView;
use crate::rendered::Rendered;
use crate::transport::compression::Precompressed;

pub(crate) mod nearest;
pub(crate) mod shelter_status;
pub(crate) mod shelters;

pub use shelters::MAX_IMPORT_BYTES;

pub fn router() -> Router<AppState> {
    Router::new().route("/locate", get(locate)).route("/regions.geojson", get(boundaries)).merge(shelters::router())
}

/// Shown with every map layer: the boundaries' licence asks for it.
pub const BOUNDARY_ATTRIBUTION: &str = "Boundaries: S. Matuszak, ukrainian_geodata (CC BY 4.0)";

#[derive(Deserialize)]
pub(crate) struct PointQuery {
    lat: f64,
    lon: f64,
}

/// A point from the query, checked: a 400 naming `lat` or `lon` otherwise.
pub fn coordinates(lat: f64, lon: f64) -> Result<Coordinates, ApiError> {
    Coordinates::parse(lat, lon).map_err(|error| ApiError::invalid_query(error.field(), error.to_string()))
}

/// The region at a point, or a 404 saying the point is outside every region.
pub fn region_at(state: &AppState, at: Coordinates) -> Result<RegionId, ApiError> {
    state.places.locator().locate(at).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "outside-regions",
            format!("the point {}, {} is outside every region of the registry", at.lat, at.lon),
        )
    })
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Location)]
struct Located<'a> {
    lat: f64,
    lon: f64,
    #[schema(required = true)]
    hromada: Option<RegionView<'a>>,
    #[schema(required = true)]
    raion: Option<RegionView<'a>>,
    #[schema(required = true)]
    oblast: Option<RegionView<'a>>,
}

#[utoipa::path(
    get, path = "/api/v1/locate", operation_id = "locate", tag = "places",
    summary = "The hromada, raion and oblast at a point",
    description = "The finest region whose boundaries contain the point, with its raion and oblast from the registry, each with \
        its state. On a shared border the lower id wins.",
    params(
        ("lat" = f64, Query, minimum = -90, maximum = 90),
        ("lon" = f64, Query, minimum = -180, maximum = 180),
    ),
    responses(
        (status = 200, description = "The regions at the point.", body = Located, content_type = "application/json"),
        (status = 400, response = openapi::PlaceQueryInvalid),
        (status = 404, response = openapi::OutsideRegions),
        (status = 429, response = openapi::RateLimited),
    )
)]
async fn locate(State(state): State<AppState>, Query(query): Query<PointQuery>) -> Result<Response, ApiError> {
    let at = coordinates(query.lat, query.lon)?;
    let found = region_at(&state, at)?;
    let book = state.engine.book();
    let registry = book.registry();
    let mut located = Located { lat: at.lat, lon: at.lon, hromada: None, raion: None, oblast: None };
    for id in std::iter::once(found).chain(registry.ancestors(found)) {
        let Some(region) = registry.get(id) else { continue };
        let view = Some(RegionView::new(region, &book));
        match region.level {
            Level::Hromada => located.hromada = view,
            Level::Raion => located.raion = view,
            Level::Oblast => located.oblast = view,
        }
    }
    Ok(Json(&located).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct BoundaryQuery {
    #[serde(default = "oblast")]
    #[param(default = "oblast")]
    level: Level,
    #[serde(default)]
    #[param(default = "simplified")]
    detail: Detail,
}

fn oblast() -> Level {
    Level::Oblast
}

#[derive(Deserialize, Default, Clone, Copy, PartialEq, Eq, Hash, Debug, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Detail {
    /// Simplified for drawing (the default).
    #[default]
    Simplified,
    /// The full-resolution boundaries.
    Full,
}

/// Each level's geometries as GeoJSON text, by region, in both details.
pub struct BoundaryLayers {
    layers: HashMap<(Level, Detail), Vec<(RegionId, String)>>,
    /// The renderings of each layer by the log position its states reflect: during an attack
    /// every map client asks at once, and states change only with events. Rendered once per
    /// position, off the async workers; concurrent requests share the one rendering.
    rendered: Rendered<(Level, Detail, Seq), Precompressed>,
}

/// Six layers, each at the newest position and the one before (requests still finishing).
const RENDERINGS_KEPT: usize = 12;

impl BoundaryLayers {
    pub fn new(layers: HashMap<(Level, Detail), Vec<(RegionId, String)>>) -> BoundaryLayers {
        BoundaryLayers { layers, rendered: Rendered::new(RENDERINGS_KEPT) }
    }

    /// The layers as a map draws them: each level's units, and, where the registry has nothing
    /// at that level under a coarser unit, that unit itself (Kyiv city and Sevastopol have no
    /// raions or hromadas, Crimea's raions no hromadas), so that a detailed map has no hole
    /// there. Such a feature's `properties.level` says what it is. Point lookup is not affected:
    /// the locator reads each level's own polygons.
    pub fn covering(
        mut layers: HashMap<(Level, Detail), Vec<(RegionId, String)>>,
        registry: &RegionRegistry,
    ) -> BoundaryLayers {
        let undivided: Vec<(Level, RegionId)> = registry
            .all()
            .iter()
            .filter(|region| region.level != Level::Hromada && registry.children(region.id).is_empty())
            .map(|region| (region.level, region.id))
            .collect();
        for detail in [Detail::Simplified, Detail::Full] {
            for level in [Level::Raion, Level::Hromada] {
                let borrowed: Vec<(RegionId, String)> = undivided
                    .iter()
                    .filter(|(coarser, _)| *coarser < level)
                    .filter_map(|(coarser, id)| {
                        let own = layers.get(&(*coarser, detail))?;
                        own.iter().find(|(region, _)| region == id).cloned()
                    })
                    .collect();
                if let Some(features) = layers.get_mut(&(level, detail)) {
                    features.extend(borrowed);
                    features.sort_by_key(|(id, _)| *id);
                }
            }
        }
        BoundaryLayers::new(layers)
    }

    /// Each level's simplified geometries, as a map draws them (see [`BoundaryLayers::covering`]).
    pub fn drawn(&self) -> Vec<(Level, Vec<(RegionId, String)>)> {
        [Level::Oblast, Level::Raion, Level::Hromada]
            .into_iter()
            .filter_map(|level| Some((level, self.layers.get(&(level, Detail::Simplified))?.clone())))
            .collect()
    }

    /// The exterior rings (`[lon, lat]`, closed) of a region's simplified boundary: for
    /// describing its area elsewhere (CAP polygons). Empty for a region without boundaries.
    pub fn rings(&self, region: RegionId) -> Vec<Vec<[f64; 2]>> {
        let geometry = [Level::Oblast, Level::Raion, Level::Hromada]
            .iter()
            .filter_map(|level| self.layers.get(&(*level, Detail::Simplified)))
            .flat_map(|features| features.iter())
            .find(|(id, _)| *id == region)
            .and_then(|(_, text)| serde_json::from_str::<serde_json::Value>(text).ok());
        let Some(geometry) = geometry else { return Vec::new() };
        let polygons = match geometry["type"].as_str() {
            Some("Polygon") => vec![geometry["coordinates"].clone()],
            _ => geometry["coordinates"].as_array().cloned().unwrap_or_default(),
        };
        polygons
            .iter()
            .filter_map(|polygon| polygon.get(0)?.as_array().cloned())
            .map(|ring| ring.iter().filter_map(|p| Some([p.get(0)?.as_f64()?, p.get(1)?.as_f64()?])).collect())
            .collect()
    }

    /// The layer with the states of `book`, rendered and compressed once per log position.
    async fn rendered(self: Arc<Self>, key: (Level, Detail), book: Arc<AlertBook>) -> Option<Arc<Precompressed>> {
        let layers = self.clone();
        let rendering =
            self.rendered.get((key.0, key.1, book.last_seq()), move || Precompressed::new(layers.render(key, &book)));
        rendering.await.ok()
    }

    fn render(&self, key: (Level, Detail), book: &AlertBook) -> Bytes {
        let seq = book.last_seq();
        let mut out = Vec::with_capacity(1 << 20);
        out.extend_from_slice(b"{\"type\":\"FeatureCollection\",\"attribution\":");
        out.extend_from_slice(serde_json::to_string(BOUNDARY_ATTRIBUTION).unwrap_or_default().as_bytes());
        out.extend_from_slice(format!(",\"seq\":{seq},\"features\":[").as_bytes());
        let registry = book.registry();
        let features = self.layers.get(&key).map(Vec::as_slice).unwrap_or_default();
        for (index, (id, geometry)) in features.iter().enumerate() {
            let Some(region) = registry.get(*id) else { continue };
            if index > 0 {
                out.push(b',');
            }
            let properties = serde_json::to_string(&RegionView::new(region, book)).unwrap_or_default();
            out.extend_from_slice(
                format!("{{\"type\":\"Feature\",\"id\":{id},\"properties\":{properties},\"geometry\":").as_bytes(),
            );
            out.extend_from_slice(geometry.as_bytes());
            out.push(b'}');
        }
        out.extend_from_slice(b"]}");
        Bytes::from(out)
    }
}

#[utoipa::path(
    get, path = "/api/v1/regions.geojson", operation_id = "regionBoundaries", tag = "places",
    summary = "Region boundaries with live state, for maps",
    description = "A FeatureCollection: one feature per region of the level, `properties` = the region object with its `state`; \
        plus `attribution` and `seq`. ETag changes with every event; If-None-Match gives 304.",
    params(BoundaryQuery, ("If-None-Match" = Option<String>, Header, nullable = false)),
    responses(
        (status = 200, description = "The layer.",
            body = openapi::AnyObject, content_type = "application/geo+json",
            headers(("ETag" = String))),
        (status = 304, description = "Unchanged since the ETag given."),
        (status = 400, response = openapi::PlaceQueryInvalid),
        (status = 429, response = openapi::RateLimited),
    )
)]
async fn boundaries(State(state): State<AppState>, headers: HeaderMap, Query(query): Query<BoundaryQuery>) -> Response {
    let book = state.engine.book();
    // The geometry is fixed for this build; the states change with the log.
    let etag =
        format!("\"{}-{:?}-{}-{}\"", query.level.as_str(), query.detail, book.last_seq(), env!("CARGO_PKG_VERSION"));
    let etag = HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"\""));
    if headers.get(header::IF_NONE_MATCH).is_some_and(|value| value == etag) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    let Some(layer) = state.boundaries.clone().rendered((query.level, query.detail), book).await else {
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the map layer could not be rendered; retry",
        )
        .into_response();
    };
    let (body, encoding) = layer.for_request(&headers);
    let mut response = (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/geo+json")),
            (header::ETAG, etag),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (header::VARY, HeaderValue::from_static("Accept-Encoding")),
        ],
        body,
    )
        .into_response();
    if let Some(encoding) = encoding {
        // Compressed once per log position; the compression layer leaves it alone.
        response.headers_mut().insert(header::CONTENT_ENCODING, encoding);
    }
    response
}
