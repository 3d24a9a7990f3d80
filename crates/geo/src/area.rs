//! Region polygons read from GeoJSON, and the point-in-polygon test.

use serde::Deserialize;
use tryvoha_core::RegionId;

/// A region's territory: one or more polygons, each an exterior ring and its holes.
#[derive(Clone, Debug)]
pub struct Area {
    pub region: RegionId,
    pub(crate) polygons: Vec<Polygon>,
}

#[derive(Clone, Debug)]
pub(crate) struct Polygon {
    /// The exterior ring first, then the holes; each ring closed (first point = last point).
    pub(crate) rings: Vec<Vec<[f64; 2]>>,
    /// `[min_lon, min_lat, max_lon, max_lat]`.
    pub(crate) bbox: [f64; 4],
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BoundaryError {
    #[error("the boundary file is not a GeoJSON FeatureCollection: {0}")]
    NotGeoJson(String),
    #[error("feature {index}: {reason}")]
    BadFeature { index: usize, reason: String },
}

#[derive(Deserialize)]
struct Collection {
    features: Vec<Feature>,
}

#[derive(Deserialize)]
struct Feature {
    id: Option<u32>,
    geometry: Geometry,
}

#[derive(Deserialize)]
#[serde(tag = "type", content = "coordinates")]
enum Geometry {
    Polygon(Vec<Vec<[f64; 2]>>),
    MultiPolygon(Vec<Vec<Vec<[f64; 2]>>>),
}

/// Reads a FeatureCollection whose features carry the region id as their `id`.
pub fn parse_boundaries(text: &str) -> Result<Vec<Area>, BoundaryError> {
    let collection: Collection = serde_json::from_str(text).map_err(|e| BoundaryError::NotGeoJson(e.to_string()))?;
    collection
        .features
        .into_iter()
        .enumerate()
        .map(|(index, feature)| {
            let bad = |reason: &str| BoundaryError::BadFeature { index, reason: reason.to_owned() };
            let region = RegionId(feature.id.ok_or_else(|| bad("no numeric id"))?);
            let polygons = match feature.geometry {
                Geometry::Polygon(rings) => vec![rings],
                Geometry::MultiPolygon(polygons) => polygons,
            };
            let polygons = polygons
                .into_iter()
                .map(|rings| {
                    // RFC 7946 §3.1.6: a ring ends where it starts. An open ring would lose its
                    // closing edge in every point-in-polygon test, so it is refused, not guessed.
                    if rings.iter().any(|ring| ring.first() != ring.last()) {
                        return Err(bad("a ring is not closed"));
                    }
                    Polygon::new(rings).ok_or_else(|| bad("a ring has fewer than 4 points"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Area { region, polygons })
        })
        .collect()
}

/// Each feature's region id and its geometry as compact GeoJSON text, in file order: for
/// serving the boundaries without re-encoding every coordinate.
pub fn geometry_texts(text: &str) -> Result<Vec<(RegionId, String)>, BoundaryError> {
    #[derive(Deserialize)]
    struct RawCollection {
        features: Vec<RawFeature>,
    }
    #[derive(Deserialize)]
    struct RawFeature {
        id: Option<u32>,
        geometry: serde_json::Value,
    }
    let collection: RawCollection = serde_json::from_str(text).map_err(|e| BoundaryError::NotGeoJson(e.to_string()))?;
    collection
        .features
        .into_iter()
        .enumerate()
        .map(|(index, feature)| {
            let id = feature.id.ok_or_else(|| BoundaryError::BadFeature { index, reason: "no numeric id".into() })?;
            Ok((RegionId(id), feature.geometry.to_string()))
        })
        .collect()
}

impl Area {
    /// `[min_lon, min_lat, max_lon, max_lat]` over all its polygons.
    pub(crate) fn bbox(&self) -> [f64; 4] {
        self.polygons.iter().fold([f64::MAX, f64::MAX, f64::MIN, f64::MIN], |b, p| {
            [b[0].min(p.bbox[0]), b[1].min(p.bbox[1]), b[2].max(p.bbox[2]), b[3].max(p.bbox[3])]
        })
    }

    /// True when the point lies inside the area or on its boundary.
    pub fn covers(&self, point: [f64; 2]) -> bool {
        self.polygons.iter().any(|polygon| polygon.covers(point))
    }

    /// A point inside the area (not on its boundary), for tests and labels: the middle of the
    /// widest horizontal run through the largest polygon at the latitude of its bbox centre.
    pub fn interior_point(&self) -> Option<[f64; 2]> {
        let polygon = self.polygons.iter().max_by(|a, b| a.bbox_area().total_cmp(&b.bbox_area()))?;
        let lat = (polygon.bbox[1] + polygon.bbox[3]) / 2.0;
        let mut crossings: Vec<f64> = polygon
            .edges()
            .filter(|(a, b)| (a[1] > lat) != (b[1] > lat))
            .map(|(a, b)| a[0] + (lat - a[1]) / (b[1] - a[1]) * (b[0] - a[0]))
            .collect();
        crossings.sort_by(f64::total_cmp);
        crossings
            .chunks_exact(2)
            .map(|run| (run[1] - run[0], (run[0] + run[1]) / 2.0, run))
            // A run of no width (two edges drawn over each other) has no inside: its middle
            // would be on the boundary, and the even-odd rule leaves that point outside.
            .filter(|&(_, middle, run)| run[0] < middle && middle < run[1])
            .max_by(|x, y| x.0.total_cmp(&y.0))
            .map(|(_, middle, _)| [middle, lat])
    }
}

impl Polygon {
    pub(crate) fn new(rings: Vec<Vec<[f64; 2]>>) -> Option<Polygon> {
        let exterior = rings.first()?;
        if rings.iter().any(|ring| ring.len() < 4) {
            return None;
        }
        let mut bbox = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
        for point in exterior {
            bbox = [bbox[0].min(point[0]), bbox[1].min(point[1]), bbox[2].max(point[0]), bbox[3].max(point[1])];
        }
        Some(Polygon { rings, bbox })
    }

    fn bbox_area(&self) -> f64 {
        (self.bbox[2] - self.bbox[0]) * (self.bbox[3] - self.bbox[1])
    }

    fn edges(&self) -> impl Iterator<Item = ([f64; 2], [f64; 2])> + '_ {
        self.rings.iter().flat_map(|ring| ring.windows(2).map(|pair| (pair[0], pair[1])))
    }

    /// Inside (even-odd over all rings) or exactly on an edge. Counting the boundary as covered
    /// means a point on a shared border is covered by both neighbours, and the caller's tie
    /// rule (lowest id) decides, the same way every time.
    pub(crate) fn covers(&self, [x, y]: [f64; 2]) -> bool {
        if x < self.bbox[0] || x > self.bbox[2] || y < self.bbox[1] || y > self.bbox[3] {
            return false;
        }
        let mut inside = false;
        for ([ax, ay], [bx, by]) in self.edges() {
            if on_segment([x, y], [ax, ay], [bx, by]) {
                return true;
            }
            if (ay > y) != (by > y) && x < ax + (y - ay) / (by - ay) * (bx - ax) {
                inside = !inside;
            }
        }
        inside
    }
}

fn on_segment([x, y]: [f64; 2], [ax, ay]: [f64; 2], [bx, by]: [f64; 2]) -> bool {
    let cross = (bx - ax) * (y - ay) - (by - ay) * (x - ax);
    cross == 0.0 && x >= ax.min(bx) && x <= ax.max(bx) && y >= ay.min(by) && y <= ay.max(by)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 4×4 square with a 2×2 hole in the middle, and a square next to it sharing an edge.
    const TWO: &str = r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","id":7,"geometry":{"type":"Polygon","coordinates":[
            [[0,0],[4,0],[4,4],[0,4],[0,0]],[[1,1],[1,3],[3,3],[3,1],[1,1]]]}},
        {"type":"Feature","id":8,"geometry":{"type":"MultiPolygon","coordinates":[
            [[[4,0],[6,0],[6,4],[4,4],[4,0]]]]}}]}"#;

    #[test]
    fn points_inside_in_holes_and_on_edges() {
        let areas = parse_boundaries(TWO).unwrap();
        let (left, right) = (&areas[0], &areas[1]);
        assert!(left.covers([0.5, 0.5]));
        assert!(!left.covers([2.0, 2.0]), "the hole is not covered");
        assert!(left.covers([1.0, 2.0]), "the hole's edge is the boundary");
        assert!(left.covers([4.0, 2.0]) && right.covers([4.0, 2.0]), "a shared edge is covered by both");
        assert!(!left.covers([5.0, 2.0]) && right.covers([5.0, 2.0]));
        assert!(!right.covers([6.5, 2.0]));
        let inside = left.interior_point().unwrap();
        assert!(left.covers(inside) && !right.covers(inside));
    }

    #[test]
    fn a_polygon_whose_edges_lie_over_each_other_offers_no_boundary_point_as_inside() {
        // Found by the boundaries fuzz target (crates/geo/fuzz): a spike drawn twice over the
        // same edges is all the polygon has at its bbox's middle latitude (49). Both runs
        // between crossings there have no width; the middle of one was offered as inside,
        // though it is on the boundary and the even-odd rule leaves it out.
        let spike = r#"{"features":[{"id":1,"geometry":{"type":"Polygon","coordinates":[[
            [33.4664,44.1164],[33.4505,54],[33.5578,44.4885],[33.4664,44.1164],[33.4505,54],
            [33.5578,44.4885],[33.6,44],[33.4,44],[33.4664,44.1164]]]}}]}"#;
        let area = &parse_boundaries(spike).unwrap()[0];
        assert_eq!(area.interior_point(), None);
        let inside = parse_boundaries(TWO).unwrap()[0].interior_point().unwrap();
        assert_eq!(inside, [3.5, 2.0], "a run with width still gives its middle (the last of the widest)");
    }

    #[test]
    fn broken_files_are_refused_with_the_feature() {
        assert!(matches!(parse_boundaries("[]"), Err(BoundaryError::NotGeoJson(_))));
        let no_id = r#"{"features":[{"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,1],[0,0]]]}}]}"#;
        assert_eq!(
            parse_boundaries(no_id).unwrap_err(),
            BoundaryError::BadFeature { index: 0, reason: "no numeric id".into() }
        );
        let short = r#"{"features":[{"id":1,"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}}]}"#;
        assert!(matches!(parse_boundaries(short), Err(BoundaryError::BadFeature { index: 0, .. })));
    }

    #[test]
    fn a_ring_that_does_not_end_where_it_starts_is_refused() {
        // Found by the boundaries fuzz target (crates/geo/fuzz): without its closing edge, the
        // ring's inside was not what it drew, and the point offered as inside was outside.
        let open = r#"{"features":[{"id":1,"geometry":{"type":"Polygon","coordinates":[[[0,0],[4,0],[4,4],[0,4]]]}}]}"#;
        assert_eq!(
            parse_boundaries(open).unwrap_err(),
            BoundaryError::BadFeature { index: 0, reason: "a ring is not closed".into() }
        );
    }
}
