//! The map as SVG paths, made once at start from the simplified boundaries: each region's
//! rings projected onto one plane for all levels (so that the levels line up), thinned to what
//! the drawing can show, and written as path data. A page then only writes the paths with each
//! region's state; no map library, no tiles, nothing fetched from elsewhere.

use std::collections::HashMap;

use tryvoha_core::{Level, RegionId};

/// The drawing's width in SVG units; its height follows from the country's shape.
const WIDTH: f64 = 1000.0;
const MARGIN: f64 = 4.0;

/// How far (in SVG units) a kept point must be from the last one, per level: finer levels keep
/// more detail, as their units are smaller.
fn tolerance(level: Level) -> f64 {
    match level {
        Level::Oblast => 0.9,
        Level::Raion => 0.7,
        Level::Hromada => 0.55,
    }
}

/// An equirectangular projection around the country's middle latitude: at this scale it is
/// indistinguishable from a conformal one, and it inverts exactly (a click on the map is a
/// point).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Projection {
    west: f64,
    north: f64,
    /// SVG units per degree of latitude.
    scale: f64,
    /// cos(middle latitude): a degree of longitude is this much shorter.
    squeeze: f64,
    pub width: f64,
    pub height: f64,
}

impl Projection {
    /// The projection that fits `[lon, lat]` points into [`WIDTH`].
    fn fitting(points: impl Iterator<Item = [f64; 2]>) -> Option<Projection> {
        let (mut west, mut east, mut south, mut north) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for [lon, lat] in points {
            west = west.min(lon);
            east = east.max(lon);
            south = south.min(lat);
            north = north.max(lat);
        }
        if west >= east || south >= north {
            return None;
        }
        let squeeze = ((south + north) / 2.0).to_radians().cos();
        let scale = (WIDTH - 2.0 * MARGIN) / ((east - west) * squeeze);
        let height = (north - south) * scale + 2.0 * MARGIN;
        Some(Projection { west, north, scale, squeeze, width: WIDTH, height: height.ceil() })
    }

    pub fn project(&self, [lon, lat]: [f64; 2]) -> [f64; 2] {
        [MARGIN + (lon - self.west) * self.squeeze * self.scale, MARGIN + (self.north - lat) * self.scale]
    }

    /// What a script needs to turn a click into a point (`unproject` in shelters.js).
    pub fn parameters(&self) -> serde_json::Value {
        serde_json::json!({ "west": self.west, "north": self.north, "scale": self.scale, "squeeze": self.squeeze, "margin": MARGIN })
    }

    /// The `[lon, lat]` drawn at `[x, y]`.
    pub fn unproject(&self, [x, y]: [f64; 2]) -> [f64; 2] {
        [self.west + (x - MARGIN) / (self.squeeze * self.scale), self.north - (y - MARGIN) / self.scale]
    }
}

/// A region's rings, `[lon, lat]`.
type Rings = Vec<Vec<[f64; 2]>>;

/// One region's outline: its path data, and the box it covers (for drawing order).
#[derive(Clone, Debug)]
pub struct Shape {
    pub id: RegionId,
    pub path: String,
    area: f64,
}

/// Every level's shapes on one projection.
pub struct MapGeometry {
    pub projection: Projection,
    layers: HashMap<Level, Vec<Shape>>,
}

impl MapGeometry {
    /// From each level's GeoJSON geometries (Polygon or MultiPolygon, `[lon, lat]`), by region.
    /// Geometries that do not parse are left out. The projection fits the coarsest level.
    pub fn new(layers: &[(Level, Vec<(RegionId, String)>)]) -> MapGeometry {
        let parsed: Vec<(Level, Vec<(RegionId, Rings)>)> = layers
            .iter()
            .map(|(level, features)| {
                (*level, features.iter().map(|(id, text)| (*id, rings(text))).filter(|(_, r)| !r.is_empty()).collect())
            })
            .collect();
        let coarsest = parsed.iter().min_by_key(|(level, _)| *level);
        let points = coarsest.into_iter().flat_map(|(_, f)| f.iter().flat_map(|(_, r)| r.iter().flatten().copied()));
        let projection = Projection::fitting(points).unwrap_or(Projection {
            west: 22.0,
            north: 52.5,
            scale: 100.0,
            squeeze: 0.66,
            width: WIDTH,
            height: 700.0,
        });
        let layers = parsed
            .into_iter()
            .map(|(level, features)| {
                let mut shapes: Vec<Shape> = features
                    .iter()
                    .filter_map(|(id, rings)| shape(*id, rings, &projection, tolerance(level)))
                    .collect();
                // Larger first, so that a region inside another (Kyiv city in Kyiv oblast) is
                // drawn on top of it and can be seen and clicked.
                shapes.sort_by(|a, b| b.area.total_cmp(&a.area));
                (level, shapes)
            })
            .collect();
        MapGeometry { projection, layers }
    }

    pub fn shapes(&self, level: Level) -> &[Shape] {
        self.layers.get(&level).map(Vec::as_slice).unwrap_or_default()
    }

    /// `0 0 W H`
    pub fn view_box(&self) -> String {
        format!("0 0 {} {}", self.projection.width, self.projection.height)
    }
}

/// The rings of a Polygon or MultiPolygon's GeoJSON text (holes included: drawn even-odd).
fn rings(text: &str) -> Rings {
    let Ok(geometry) = serde_json::from_str::<serde_json::Value>(text) else { return Vec::new() };
    let polygons = match geometry["type"].as_str() {
        Some("Polygon") => vec![geometry["coordinates"].clone()],
        Some("MultiPolygon") => geometry["coordinates"].as_array().cloned().unwrap_or_default(),
        _ => Vec::new(),
    };
    polygons
        .iter()
        .filter_map(|polygon| polygon.as_array())
        .flatten()
        .filter_map(|ring| ring.as_array())
        .map(|ring| ring.iter().filter_map(|p| Some([p.get(0)?.as_f64()?, p.get(1)?.as_f64()?])).collect())
        .collect()
}

fn shape(id: RegionId, rings: &[Vec<[f64; 2]>], projection: &Projection, tolerance: f64) -> Option<Shape> {
    let mut path = String::new();
    let (mut min, mut max) = ([f64::MAX; 2], [f64::MIN; 2]);
    for ring in rings {
        let points = thinned(ring.iter().map(|p| projection.project(*p)), tolerance);
        // A ring thinned below a triangle is smaller than the drawing shows: left out.
        if points.len() < 3 {
            continue;
        }
        for p in &points {
            min = [min[0].min(p[0]), min[1].min(p[1])];
            max = [max[0].max(p[0]), max[1].max(p[1])];
        }
        write_ring(&mut path, &points);
    }
    if path.is_empty() {
        return None;
    }
    Some(Shape { id, path, area: (max[0] - min[0]) * (max[1] - min[1]) })
}

/// The points at least `tolerance` apart from the last one kept (the ring's own last point,
/// which repeats its first, is dropped: `Z` closes the ring).
fn thinned(points: impl Iterator<Item = [f64; 2]>, tolerance: f64) -> Vec<[f64; 2]> {
    let mut kept: Vec<[f64; 2]> = Vec::new();
    for p in points {
        match kept.last() {
            Some(last) if (p[0] - last[0]).hypot(p[1] - last[1]) < tolerance => {}
            _ => kept.push(p),
        }
    }
    if kept.len() > 1
        && kept.first().zip(kept.last()).is_some_and(|(a, b)| (a[0] - b[0]).hypot(a[1] - b[1]) < tolerance)
    {
        kept.pop();
    }
    kept
}

/// `M x y` then relative steps, in tenths of a unit: the shortest text that draws the ring.
fn write_ring(out: &mut String, points: &[[f64; 2]]) {
    let tenths = |v: f64| (v * 10.0).round() as i64;
    let first = [tenths(points[0][0]), tenths(points[0][1])];
    out.push('M');
    push_tenths(out, first[0]);
    out.push(' ');
    push_tenths(out, first[1]);
    out.push('l');
    let mut at = first;
    let mut first_step = true;
    for p in &points[1..] {
        let next = [tenths(p[0]), tenths(p[1])];
        let (dx, dy) = (next[0] - at[0], next[1] - at[1]);
        if dx == 0 && dy == 0 {
            continue;
        }
        if !first_step && dx >= 0 {
            out.push(' ');
        }
        push_tenths(out, dx);
        if dy >= 0 {
            out.push(' ');
        }
        push_tenths(out, dy);
        first_step = false;
        at = next;
    }
    out.push('z');
}

/// `v / 10` with at most one decimal: `12` → `1.2`, `-5` → `-.5`, `30` → `3`.
fn push_tenths(out: &mut String, v: i64) {
    if v < 0 {
        out.push('-');
    }
    let (whole, tenth) = (v.unsigned_abs() / 10, v.unsigned_abs() % 10);
    if whole > 0 || tenth == 0 {
        out.push_str(&whole.to_string());
    }
    if tenth > 0 {
        out.push('.');
        out.push_str(&tenth.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SQUARE: &str = r#"{"type":"Polygon","coordinates":[[[30,50],[31,50],[31,51],[30,51],[30,50]]]}"#;
    const INNER: &str = r#"{"type":"Polygon","coordinates":[[[30.4,50.4],[30.6,50.4],[30.6,50.6],[30.4,50.4]]]}"#;

    #[test]
    fn a_region_is_a_closed_path_inside_the_drawing_and_inner_regions_come_last() {
        let map =
            MapGeometry::new(&[(Level::Oblast, vec![(RegionId(31), INNER.into()), (RegionId(14), SQUARE.into())])]);
        let shapes = map.shapes(Level::Oblast);
        assert_eq!(shapes.iter().map(|s| s.id.0).collect::<Vec<_>>(), [14, 31]);
        let outer = &shapes[0].path;
        assert!(outer.starts_with("M4 ") && outer.ends_with('z'), "{outer}");
        assert_eq!(map.projection.width, 1000.0);
        let corner = map.projection.project([31.0, 50.0]);
        assert!((corner[0] - 996.0).abs() < 1e-9 && corner[1] <= map.projection.height, "{corner:?}");
    }

    #[test]
    fn a_point_drawn_is_the_point_clicked() {
        let map = MapGeometry::new(&[(Level::Oblast, vec![(RegionId(14), SQUARE.into())])]);
        let [lon, lat] = map.projection.unproject(map.projection.project([30.52, 50.45]));
        assert!((lon - 30.52).abs() < 1e-9 && (lat - 50.45).abs() < 1e-9);
    }

    #[test]
    fn steps_are_written_in_tenths_without_needless_characters() {
        let mut out = String::new();
        for v in [12, -5, 30, 0, -17] {
            push_tenths(&mut out, v);
            out.push(',');
        }
        assert_eq!(out, "1.2,-.5,3,0,-1.7,");
        let mut ring = String::new();
        write_ring(&mut ring, &[[1.0, 1.0], [2.5, 1.0], [2.5, 0.5]]);
        assert_eq!(ring, "M1 1l1.5 0 0-.5z");
    }

    #[test]
    fn points_closer_than_the_drawing_shows_are_dropped() {
        let points = [[0.0, 0.0], [0.1, 0.0], [2.0, 0.0], [2.0, 2.0], [0.05, 0.05]];
        assert_eq!(thinned(points.into_iter(), 0.5), vec![[0.0, 0.0], [2.0, 0.0], [2.0, 2.0]]);
    }
}
