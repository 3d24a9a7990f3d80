//! The nearest shelters to a point: an R-tree over the shelters' positions on the unit sphere,
//! where straight-line (chord) order equals great-circle order, so the tree's nearest
//! neighbours are the nearest on the Earth; the reported distance is then the geodesic one.

use rstar::RTree;
use rstar::primitives::GeomWithData;
use tryvoha_core::{Coordinates, Shelter};

use crate::distance::{geodesic_metres, walking_minutes};

/// How much farther than on the ellipsoid a shelter may lie in the sphere's order (WGS 84's
/// flattening is 1/298: well under 1%).
const SPHERE_MARGIN: f64 = 1.01;

type Entry = GeomWithData<[f64; 3], usize>;

pub struct ShelterIndex {
    shelters: Vec<Shelter>,
    tree: RTree<Entry>,
}

/// A shelter with how far it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Nearby<'a> {
    pub shelter: &'a Shelter,
    pub distance_m: f64,
    pub walking_minutes: u32,
}

impl ShelterIndex {
    pub fn new(shelters: Vec<Shelter>) -> ShelterIndex {
        let entries =
            shelters.iter().enumerate().map(|(i, s)| GeomWithData::new(on_sphere(s.info.coordinates()), i)).collect();
        ShelterIndex { shelters, tree: RTree::bulk_load(entries) }
    }

    pub fn len(&self) -> usize {
        self.shelters.len()
    }

    pub fn is_empty(&self) -> bool {
        self.shelters.is_empty()
    }

    pub fn all(&self) -> &[Shelter] {
        &self.shelters
    }

    /// The `limit` nearest shelters, nearest first.
    pub fn nearest(&self, at: Coordinates, limit: usize) -> Vec<Nearby<'_>> {
        self.nearest_within(at, limit, f64::INFINITY)
    }

    /// The `limit` nearest shelters at most `max_distance_m` away, nearest first: a shelter in
    /// another city is no answer to "where do I go now".
    pub fn nearest_within(&self, at: Coordinates, limit: usize, max_distance_m: f64) -> Vec<Nearby<'_>> {
        self.nearest_where(at, limit, max_distance_m, |_| true)
    }

    /// [`nearest_within`](ShelterIndex::nearest_within) among the shelters `keep` accepts (the
    /// open ones, say): the next nearest takes the place of one it refuses.
    pub fn nearest_where(
        &self,
        at: Coordinates,
        limit: usize,
        max_distance_m: f64,
        keep: impl Fn(&Shelter) -> bool,
    ) -> Vec<Nearby<'_>> {
        // Nearest on the sphere first: the walk ends past `max_distance_m` (with the margin by
        // which the sphere and the ellipsoid can disagree), so that refused shelters never make
        // it go through the whole index.
        let mut found: Vec<Nearby<'_>> = self
            .tree
            .nearest_neighbor_iter(on_sphere(at))
            .map(|entry| {
                let shelter = &self.shelters[entry.data];
                let distance_m = geodesic_metres(at, shelter.info.coordinates());
                Nearby { shelter, distance_m, walking_minutes: walking_minutes(distance_m) }
            })
            .take_while(|nearby| nearby.distance_m <= max_distance_m * SPHERE_MARGIN)
            .filter(|nearby| nearby.distance_m <= max_distance_m && keep(nearby.shelter))
            .take(limit)
            .collect();
        // The sphere and the ellipsoid can swap two almost equally distant shelters.
        found.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m).then(a.shelter.id.cmp(&b.shelter.id)));
        found
    }

    /// Shelters inside `[min_lon, min_lat, max_lon, max_lat]`, by id.
    pub fn within(&self, bbox: [f64; 4]) -> Vec<&Shelter> {
        let [x0, y0, x1, y1] = bbox;
        let mut inside: Vec<&Shelter> = self
            .shelters
            .iter()
            .filter(|s| (x0..=x1).contains(&s.info.lon) && (y0..=y1).contains(&s.info.lat))
            .collect();
        inside.sort_by_key(|s| s.id);
        inside
    }
}

fn on_sphere(at: Coordinates) -> [f64; 3] {
    let (lat, lon) = (at.lat.to_radians(), at.lon.to_radians());
    [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use tryvoha_core::{ShelterId, ShelterInfo, ShelterKind};

    fn shelter(id: u64, lat: f64, lon: f64) -> Shelter {
        let info = ShelterInfo::new(lat, lon, format!("Укриття {id}"), ShelterKind::Basement);
        Shelter { id: ShelterId(id), info }
    }

    proptest! {
        /// The tree's answer equals sorting every shelter by geodesic distance.
        #[test]
        fn nearest_equals_a_brute_force_search(
            points in prop::collection::vec((44.0..53.0f64, 22.0..41.0f64), 1..200),
            (lat, lon) in (44.0..53.0f64, 22.0..41.0f64),
            limit in 1..8usize,
        ) {
            let shelters: Vec<Shelter> = points.iter().enumerate().map(|(i, &(lat, lon))| shelter(i as u64, lat, lon)).collect();
            let index = ShelterIndex::new(shelters.clone());
            let at = Coordinates::parse(lat, lon).unwrap();
            let mut brute: Vec<(f64, u64)> = shelters.iter().map(|s| (geodesic_metres(at, s.info.coordinates()), s.id.0)).collect();
            brute.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let found: Vec<f64> = index.nearest(at, limit).iter().map(|n| n.distance_m).collect();
            let expected: Vec<f64> = brute.iter().take(limit).map(|b| b.0).collect();
            prop_assert_eq!(found.len(), expected.len());
            for (f, e) in found.iter().zip(&expected) {
                // Equal up to the sphere/ellipsoid near-tie: within 1 cm.
                prop_assert!((f - e).abs() < 0.01 || (f - e).abs() / e < 0.006, "{} vs {}", f, e);
            }
        }
    }

    #[test]
    fn shelters_beyond_the_distance_are_not_offered() {
        // Kyiv and Lviv: from Lviv the Kyiv shelter is 470 km away.
        let index = ShelterIndex::new(vec![shelter(1, 50.45, 30.52), shelter(2, 49.84, 24.03)]);
        let lviv = Coordinates::parse(49.8397, 24.0297).unwrap();
        let near: Vec<u64> = index.nearest_within(lviv, 5, 20_000.0).iter().map(|n| n.shelter.id.0).collect();
        assert_eq!(near, [2]);
        let elsewhere = Coordinates::parse(48.92, 24.71).unwrap();
        assert!(index.nearest_within(elsewhere, 5, 20_000.0).is_empty(), "nothing within 20 km");
        assert_eq!(index.nearest(elsewhere, 5).len(), 2, "without a cap every shelter is nearest to something");
    }

    proptest! {
        /// Among the shelters kept, the answer equals a brute-force search within the distance.
        #[test]
        fn nearest_where_equals_a_brute_force_search_among_the_kept(
            points in prop::collection::vec((49.0..51.0f64, 29.0..32.0f64), 1..150),
            (lat, lon) in (49.0..51.0f64, 29.0..32.0f64),
            limit in 1..6usize,
            max_km in 1.0..150.0f64,
        ) {
            let shelters: Vec<Shelter> = points.iter().enumerate().map(|(i, &(lat, lon))| shelter(i as u64, lat, lon)).collect();
            let index = ShelterIndex::new(shelters.clone());
            let at = Coordinates::parse(lat, lon).unwrap();
            let kept = |s: &Shelter| !s.id.0.is_multiple_of(3);
            let max = max_km * 1000.0;
            let mut brute: Vec<f64> = shelters
                .iter()
                .filter(|s| kept(s))
                .map(|s| geodesic_metres(at, s.info.coordinates()))
                .filter(|d| *d <= max)
                .collect();
            brute.sort_by(f64::total_cmp);
            let found = index.nearest_where(at, limit, max, kept);
            prop_assert!(found.iter().all(|n| kept(n.shelter) && n.distance_m <= max));
            prop_assert_eq!(found.len(), brute.len().min(limit));
            for (f, e) in found.iter().map(|n| n.distance_m).zip(&brute) {
                prop_assert!((f - e).abs() < 0.01 || (f - e).abs() / e < 0.006, "{} vs {}", f, e);
            }
        }
    }

    #[test]
    fn a_bounding_box_selects_by_longitude_and_latitude() {
        let index =
            ShelterIndex::new(vec![shelter(1, 50.45, 30.52), shelter(2, 49.84, 24.03), shelter(3, 50.40, 30.60)]);
        let ids: Vec<u64> = index.within([30.0, 50.0, 31.0, 51.0]).iter().map(|s| s.id.0).collect();
        assert_eq!(ids, [1, 3]);
    }
}
