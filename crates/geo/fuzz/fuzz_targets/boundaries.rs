//! Any text as a boundary file (GeoJSON, the region id as each feature's `id`), read both ways
//! the server reads it: as areas for the locator (`parse_boundaries`) and as geometry texts for
//! serving (`geometry_texts`). Both must return, never panic, hang or blow up memory. A file read
//! as areas is read as texts too, feature for feature; each text is JSON; and for an area on the
//! globe, each of its vertices is covered (the boundary counts as inside) and found by the
//! locator, and the point it offers as inside is covered.

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tryvoha_core::Coordinates;
use tryvoha_geo::{Area, Locator, geometry_texts, parse_boundaries};

/// How many areas and vertices are checked: enough to catch a wrong answer, few enough that a
/// large file stays fast.
const AREAS_CHECKED: usize = 8;
const VERTICES_CHECKED: usize = 64;

fuzz_target!(|data: &[u8]| {
    // The server reads boundary files as text.
    let Ok(text) = std::str::from_utf8(data) else { return };
    let texts = geometry_texts(text);
    let Ok(areas) = parse_boundaries(text) else { return };
    let texts = texts.unwrap_or_else(|error| panic!("read as areas but not as geometry texts: {error}"));
    assert_eq!(
        areas.iter().map(|area| area.region).collect::<Vec<_>>(),
        texts.iter().map(|(region, _)| *region).collect::<Vec<_>>(),
        "the two readings disagree on the features"
    );
    let geometries: Vec<Value> = texts
        .iter()
        .map(|(region, geometry)| {
            serde_json::from_str(geometry).unwrap_or_else(|e| panic!("region {}: {e}: {geometry}", region.0))
        })
        .collect();
    let locator = Locator::new(vec![areas.clone()]);
    for (area, geometry) in areas.iter().zip(&geometries).take(AREAS_CHECKED) {
        let mut vertices = Vec::new();
        collect_vertices(&geometry["coordinates"], &mut vertices);
        // Coordinates off the globe are the file's nonsense, and their arithmetic may overflow;
        // the geometry is checked where every point is a place.
        if !vertices.iter().all(|&[lon, lat]| Coordinates::parse(lat, lon).is_ok()) {
            continue;
        }
        check_area(area, &exterior_vertices(geometry), &locator);
    }
});

/// `vertices`: those of the exterior rings. A hole's may lie anywhere in a broken file, even
/// outside its polygon, so only the exterior's are sure to be on the area's boundary.
fn check_area(area: &Area, vertices: &[[f64; 2]], locator: &Locator) {
    for &[lon, lat] in vertices.iter().take(VERTICES_CHECKED) {
        assert!(area.covers([lon, lat]), "region {}: its vertex {lon},{lat} is not covered", area.region.0);
        let at = Coordinates::parse(lat, lon).expect("checked on the globe");
        // The locator answers the lowest id among the areas covering a point.
        let found = locator.locate(at);
        assert!(
            found.is_some_and(|region| region.0 <= area.region.0),
            "region {}: vertex {lon},{lat} located in {found:?}",
            area.region.0
        );
    }
    if let Some(inside) = area.interior_point() {
        assert!(area.covers(inside), "region {}: its interior point {inside:?} is not covered", area.region.0);
    }
}

/// The vertices of the first ring of each polygon: the exterior rings.
fn exterior_vertices(geometry: &Value) -> Vec<[f64; 2]> {
    let coordinates = &geometry["coordinates"];
    let polygons: Vec<&Value> = match geometry["type"].as_str() {
        Some("Polygon") => vec![coordinates],
        Some("MultiPolygon") => coordinates.as_array().map(|p| p.iter().collect()).unwrap_or_default(),
        _ => Vec::new(),
    };
    let mut vertices = Vec::new();
    for polygon in polygons {
        if let Some(exterior) = polygon.get(0) {
            collect_vertices(exterior, &mut vertices);
        }
    }
    vertices
}

/// Every `[lon, lat]` of a Polygon's or MultiPolygon's coordinates, at any depth.
fn collect_vertices(value: &Value, into: &mut Vec<[f64; 2]>) {
    let Some(items) = value.as_array() else { return };
    match (items.first().and_then(Value::as_f64), items.get(1).and_then(Value::as_f64)) {
        (Some(lon), Some(lat)) => into.push([lon, lat]),
        _ => items.iter().for_each(|item| collect_vertices(item, into)),
    }
}
