//! A CAP message's areas to regions (docs/cap.md, "Areas to regions"): an area's geocodes by
//! the registry; an area without a known geocode by the regions its polygons and circles cover
//! (`Locator::regions_covered_by`).

use std::collections::BTreeSet;

use tryvoha_core::{RegionId, RegionRegistry};
use tryvoha_geo::Locator;

/// Vertices of the polygon that stands for a circle.
const CIRCLE_VERTICES: usize = 32;
/// Kilometres per degree of latitude (and of longitude at the equator).
const KM_PER_DEGREE: f64 = 111.32;

/// The regions the message's areas name or cover, in id order.
pub fn regions_of(registry: &RegionRegistry, locator: &Locator, message: &tryvoha_cap::Alert) -> BTreeSet<RegionId> {
    let mut regions = BTreeSet::new();
    for area in message.infos.iter().flat_map(|i| &i.areas) {
        let mut named = BTreeSet::new();
        for geocode in &area.geocodes {
            let found = match geocode.value_name.to_ascii_lowercase().as_str() {
                "katottg" => registry.by_code(geocode.value.trim()).map(|r| r.id),
                "tryvoha:region" => {
                    geocode.value.trim().parse().ok().map(RegionId).filter(|id| registry.get(*id).is_some())
                }
                _ => None,
            };
            named.extend(found);
        }
        // CAP polygons have no holes, so a polygon drawn around a region with a hole (Kyiv
        // oblast around Kyiv city) says more than the region: where a geocode names the
        // region, it decides and the shapes only describe it (our own messages carry both).
        if !named.is_empty() {
            regions.append(&mut named);
            continue;
        }
        let polygons = area.polygons.iter().map(|p| p.points().iter().map(|p| [p.lon(), p.lat()]).collect());
        let circles = area.circles.iter().map(|c| circle_ring(c.center().lat(), c.center().lon(), c.radius_km()));
        for ring in polygons.chain(circles).collect::<Vec<Vec<[f64; 2]>>>() {
            regions.extend(locator.regions_covered_by(&ring));
        }
    }
    regions
}

/// A circle as a polygon (`[lon, lat]`), on a local flat approximation: good to well under a
/// percent for the tens of kilometres of a warning area. A zero radius is a point: the tiny
/// polygon around it maps to the region there.
fn circle_ring(lat: f64, lon: f64, radius_km: f64) -> Vec<[f64; 2]> {
    let radius_km = radius_km.max(0.01);
    let lat_step = radius_km / KM_PER_DEGREE;
    let lon_step = radius_km / (KM_PER_DEGREE * lat.to_radians().cos().max(0.01));
    (0..CIRCLE_VERTICES)
        .map(|k| {
            let angle = std::f64::consts::TAU * k as f64 / CIRCLE_VERTICES as f64;
            [lon + lon_step * angle.cos(), lat + lat_step * angle.sin()]
        })
        .collect()
}
