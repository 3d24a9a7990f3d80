//! Distances on the WGS 84 ellipsoid and walking time.

use geographiclib_rs::{Geodesic, InverseGeodesic};
use tryvoha_core::Coordinates;

/// The geodesic distance in metres (Karney's algorithm, accurate to nanometres).
pub fn geodesic_metres(from: Coordinates, to: Coordinates) -> f64 {
    let distance: f64 = Geodesic::wgs84().inverse(from.lat, from.lon, to.lat, to.lon);
    distance
}

/// Walking speed in metres per minute (5 km/h).
const WALKING_METRES_PER_MINUTE: f64 = 5000.0 / 60.0;
/// Streets are not straight lines: urban routes are typically 1.2–1.4 times the straight-line
/// distance; 1.3 is the planning rule of thumb used here.
const ROUTE_FACTOR: f64 = 1.3;

/// An estimate of the walk, in whole minutes rounded up: the straight-line distance times the
/// route factor, at 5 km/h.
pub fn walking_minutes(metres: f64) -> u32 {
    (metres * ROUTE_FACTOR / WALKING_METRES_PER_MINUTE).ceil() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_match_known_geodesics() {
        // One degree of latitude at the equator on WGS 84 is 110,574.4 m.
        let a = Coordinates::parse(0.0, 0.0).unwrap();
        let b = Coordinates::parse(1.0, 0.0).unwrap();
        assert!((geodesic_metres(a, b) - 110_574.4).abs() < 0.1);
        assert_eq!(geodesic_metres(a, a), 0.0);
        assert_eq!(walking_minutes(0.0), 0);
        assert_eq!(walking_minutes(500.0), 8, "500 m × 1.3 at 83.3 m/min is 7.8 minutes");
    }
}
