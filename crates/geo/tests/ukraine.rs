//! The bundled boundaries of Ukraine against the bundled registry: one polygon set per region,
//! every hromada's inner point locates to it, known places land where they should, and points
//! on shared borders always get the same answer.

// Test code: an unwrap that fails is a failing test, which is what it should be.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

use tryvoha_core::{Coordinates, Level, RegionId, RegionRegistry};
use tryvoha_geo::{Area, Locator, geometry_texts, parse_boundaries};

const REGISTRY: &str = include_str!("../../../data/regions/ukraine.csv");
const HROMADA: &str = include_str!("../../../data/boundaries/ukraine-hromada.geojson");
const RAION: &str = include_str!("../../../data/boundaries/ukraine-raion.geojson");
const OBLAST: &str = include_str!("../../../data/boundaries/ukraine-oblast.geojson");
const SIMPLIFIED: [&str; 3] = [
    include_str!("../../../data/boundaries/ukraine-hromada-simplified.geojson"),
    include_str!("../../../data/boundaries/ukraine-raion-simplified.geojson"),
    include_str!("../../../data/boundaries/ukraine-oblast-simplified.geojson"),
];
const CHECKPOINTS: &str = include_str!("../../../data/boundaries/checkpoints.csv");

struct Fixture {
    registry: RegionRegistry,
    levels: [Vec<Area>; 3],
    locator: Locator,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let levels = [HROMADA, RAION, OBLAST].map(|text| parse_boundaries(text).unwrap());
        let locator = Locator::new(levels.to_vec());
        Fixture { registry: RegionRegistry::from_csv(REGISTRY).unwrap(), levels, locator }
    })
}

fn locate(lat: f64, lon: f64) -> Option<RegionId> {
    fixture().locator.locate(Coordinates::parse(lat, lon).unwrap())
}

#[test]
fn the_registry_and_the_boundaries_agree_one_to_one() {
    let fixture = fixture();
    for (areas, level) in fixture.levels.iter().zip([Level::Hromada, Level::Raion, Level::Oblast]) {
        let with_polygon: BTreeSet<RegionId> = areas.iter().map(|a| a.region).collect();
        assert_eq!(with_polygon.len(), areas.len(), "{level:?}: one feature per region");
        let registered: BTreeSet<RegionId> =
            fixture.registry.all().iter().filter(|r| r.level == level).map(|r| r.id).collect();
        assert_eq!(with_polygon, registered, "{level:?}: every region has boundaries and nothing else does");
    }
    for (text, full) in SIMPLIFIED.iter().zip(&fixture.levels) {
        let simplified: Vec<RegionId> = geometry_texts(text).unwrap().into_iter().map(|(id, _)| id).collect();
        let full: Vec<RegionId> = full.iter().map(|a| a.region).collect();
        assert_eq!(simplified, full, "the simplified copy has the same regions in the same order");
    }
}

#[test]
fn every_hromadas_inner_point_locates_to_that_hromada() {
    for area in &fixture().levels[0] {
        let [lon, lat] = area.interior_point().unwrap();
        assert_eq!(locate(lat, lon), Some(area.region), "inner point {lat},{lon}");
    }
}

#[test]
fn known_places_land_in_the_right_hromada_raion_and_oblast() {
    let registry = &fixture().registry;
    let code =
        |id: Option<RegionId>| id.and_then(|id| registry.get(id)).and_then(|r| r.code.clone()).unwrap_or_default();
    let mut reader = csv::Reader::from_reader(CHECKPOINTS.as_bytes());
    let mut checked = 0;
    for row in reader.records() {
        let row = row.unwrap();
        let (name, lat, lon) = (&row[0], row[1].parse().unwrap(), row[2].parse().unwrap());
        let found = locate(lat, lon);
        let chain: Vec<RegionId> =
            found.into_iter().chain(found.map(|f| registry.ancestors(f)).into_iter().flatten()).collect();
        let at_level = |level| chain.iter().copied().find(|id| registry.get(*id).is_some_and(|r| r.level == level));
        assert_eq!(code(at_level(Level::Hromada)), &row[3], "{name}: hromada");
        assert_eq!(code(at_level(Level::Raion)), &row[4], "{name}: raion");
        assert_eq!(code(at_level(Level::Oblast)), &row[5], "{name}: oblast");
        checked += 1;
    }
    assert!(checked >= 40, "{checked} checkpoints");
}

#[test]
fn kyiv_city_and_the_sea_and_abroad() {
    // Maidan Nezalezhnosti metro station (OSM node, data/shelters/kyiv-metro.geojson).
    let kyiv = locate(50.4501, 30.5241);
    assert_eq!(kyiv, Some(RegionId(31)), "Kyiv city has no finer units: the city itself");
    assert_eq!(locate(43.0, 34.0), None, "the Black Sea");
    assert_eq!(locate(52.23, 21.01), None, "Warsaw");
}

#[test]
fn a_point_on_a_shared_border_resolves_the_same_way_every_time() {
    // Every hromada vertex, with the hromadas it belongs to; a vertex of two is on both borders.
    let mut owners: HashMap<[u64; 2], BTreeSet<RegionId>> = HashMap::new();
    for (region, geometry) in geometry_texts(HROMADA).unwrap() {
        let value: serde_json::Value = serde_json::from_str(&geometry).unwrap();
        for point in value["coordinates"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|p| p.as_array().unwrap())
            .flat_map(|r| r.as_array().unwrap())
        {
            let vertex = [point[0].as_f64().unwrap(), point[1].as_f64().unwrap()];
            owners.entry(vertex.map(f64::to_bits)).or_default().insert(region);
        }
    }
    let mut shared: Vec<_> = owners.iter().filter(|(_, regions)| regions.len() >= 2).collect();
    shared.sort_by_key(|(bits, _)| **bits);
    assert!(shared.len() >= 1000, "{} shared vertices", shared.len());
    let hromadas = &fixture().levels[0];
    for (bits, regions) in shared.iter().step_by(shared.len() / 500) {
        let [lon, lat] = bits.map(f64::from_bits);
        // Brute force: every hromada whose boundary or inside holds the point (a vertex of two
        // may also sit on a third one's edge).
        let covering: BTreeSet<RegionId> = hromadas.iter().filter(|a| a.covers([lon, lat])).map(|a| a.region).collect();
        assert!(covering.is_superset(regions), "both owners cover their shared vertex");
        let answer = locate(lat, lon);
        assert_eq!(answer, covering.first().copied(), "a border point goes to the lowest id of {covering:?}");
        assert_eq!(answer, locate(lat, lon), "and again");
    }
}

/// The outer ring of a region's largest polygon in the simplified boundaries, `[lon, lat]`.
fn simplified_outer_ring(region: u32) -> Vec<[f64; 2]> {
    let collection: serde_json::Value = serde_json::from_str(SIMPLIFIED[2]).unwrap();
    let feature = collection["features"].as_array().unwrap().iter().find(|f| f["id"] == region).unwrap();
    let geometry = &feature["geometry"];
    let polygons = match geometry["type"].as_str().unwrap() {
        "Polygon" => vec![geometry["coordinates"].clone()],
        _ => geometry["coordinates"].as_array().unwrap().clone(),
    };
    let outer = |p: &serde_json::Value| -> Vec<[f64; 2]> {
        p[0].as_array().unwrap().iter().map(|pt| [pt[0].as_f64().unwrap(), pt[1].as_f64().unwrap()]).collect()
    };
    polygons.iter().map(outer).max_by_key(Vec::len).unwrap()
}

#[test]
fn a_polygon_of_kyiv_oblast_covers_kyiv_oblast_and_the_city_inside_it() {
    let ring = simplified_outer_ring(14);
    let covered = fixture().locator.regions_covered_by(&ring);
    // Kyiv city (31) is a hole in the oblast, but inside its outer ring: its people are inside
    // the polygon, so it is covered too. No neighbour is, though they share the ring's border.
    assert_eq!(covered, [RegionId(14), RegionId(31)]);
    // Kyiv city's outer ring encloses Kotsiubynske (707), a hromada of Kyiv oblast surrounded
    // by the city: geometry, not the hierarchy, decides.
    let city = simplified_outer_ring(31);
    assert_eq!(fixture().locator.regions_covered_by(&city), [RegionId(31), RegionId(707)]);
    let lviv = simplified_outer_ring(27);
    assert_eq!(fixture().locator.regions_covered_by(&lviv), [RegionId(27)]);
}
