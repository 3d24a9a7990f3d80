//! Which regions a polygon covers: the area rule for CAP polygons and circles (docs/cap.md).
//!
//! A polygon stands for the people inside it, so regions are judged by how much of their
//! territory lies inside, not by the polygon's centre (the vertex average of a polygon of Kyiv
//! oblast lies in Kyiv city, which is a hole in the oblast). From the coarsest level down:
//! - a region with finer parts is taken whole when at least [`WHOLE_SHARE`] of it lies inside
//!   (the slack absorbs a polygon drawn from a simplified boundary); otherwise its parts are
//!   judged in turn;
//! - a region without finer parts (a hromada; Kyiv city) is taken when at least [`PART_SHARE`]
//!   of it lies inside: it is better to warn a whole hromada than to leave out a quarter of it;
//! - a polygon too small to cover that much of any region maps to the finest regions its
//!   vertices and its centre lie in.
//!
//! Geometry decides, not the hierarchy: the outer ring of Kyiv oblast encloses Kyiv city, so
//! both are covered. Shares are estimated on a regular grid of sample points over each region.

use std::collections::BTreeSet;

use rstar::AABB;
use tryvoha_core::{Coordinates, RegionId};

use crate::area::{Area, Polygon};
use crate::locator::Locator;

/// The share of a region with finer parts that a polygon must cover to take it whole.
pub const WHOLE_SHARE: f64 = 0.9;
/// The share of a region without finer parts that a polygon must cover to take it.
pub const PART_SHARE: f64 = 0.25;
/// Sample points per side of a region's bounding box.
const GRID: usize = 16;

impl Locator {
    /// The regions the polygon `ring` (`[lon, lat]` points, closed or not) covers by the area
    /// rule of this module, in id order; empty when it lies outside every region.
    pub fn regions_covered_by(&self, ring: &[[f64; 2]]) -> Vec<RegionId> {
        let mut closed = ring.to_vec();
        if closed.len() < 3 {
            return Vec::new();
        }
        if closed.first() != closed.last() {
            closed.push(closed[0]);
        }
        let Some(shape) = Polygon::new(vec![closed]) else { return Vec::new() };
        let envelope = AABB::from_corners([shape.bbox[0], shape.bbox[1]], [shape.bbox[2], shape.bbox[3]]);
        let mut taken: Vec<&Area> = Vec::new();
        // Coarsest first: a region taken whole is not split into its parts.
        for (level, index) in self.levels.iter().enumerate().rev() {
            let candidates: BTreeSet<usize> =
                index.tree.locate_in_envelope_intersecting(envelope).map(|entry| entry.data.0).collect();
            for area in candidates.into_iter().map(|i| &index.areas[i]) {
                let Some(inner) = area.interior_point() else { continue };
                if taken.iter().any(|whole| whole.covers(inner)) {
                    continue;
                }
                let has_parts = level > 0 && self.levels[..level].iter().any(|finer| finer.locate(inner).is_some());
                let needed = if has_parts { WHOLE_SHARE } else { PART_SHARE };
                if share_inside(area, &shape) >= needed {
                    taken.push(area);
                }
            }
        }
        let mut regions: BTreeSet<RegionId> = taken.iter().map(|area| area.region).collect();
        if regions.is_empty() {
            let ring = &shape.rings[0];
            let n = (ring.len() - 1) as f64;
            let centre = ring[1..].iter().fold([0.0, 0.0], |sum, p| [sum[0] + p[0] / n, sum[1] + p[1] / n]);
            for [lon, lat] in ring.iter().copied().chain([centre]) {
                regions.extend(Coordinates::parse(lat, lon).ok().and_then(|at| self.locate(at)));
            }
        }
        regions.into_iter().collect()
    }
}

/// The share of `area`'s sample points that lie inside `shape`; 0 when no sample falls in the
/// area (a sliver thinner than the grid).
fn share_inside(area: &Area, shape: &Polygon) -> f64 {
    let [x0, y0, x1, y1] = area.bbox();
    let (mut inside_area, mut inside_both) = (0u32, 0u32);
    for i in 0..GRID {
        for j in 0..GRID {
            let point =
                [x0 + (x1 - x0) * (i as f64 + 0.5) / GRID as f64, y0 + (y1 - y0) * (j as f64 + 0.5) / GRID as f64];
            if area.covers(point) {
                inside_area += 1;
                if shape.covers(point) {
                    inside_both += 1;
                }
            }
        }
    }
    if inside_area == 0 { 0.0 } else { f64::from(inside_both) / f64::from(inside_area) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::area::parse_boundaries;

    fn square(id: u32, x: f64, y: f64, side: f64) -> String {
        let (x1, y1) = (x + side, y + side);
        format!(
            r#"{{"type":"Feature","id":{id},"geometry":{{"type":"Polygon","coordinates":[[[{x},{y}],[{x1},{y}],[{x1},{y1}],[{x},{y1}],[{x},{y}]]]}}}}"#
        )
    }

    fn collection(features: &[String]) -> Vec<Area> {
        parse_boundaries(&format!(r#"{{"type":"FeatureCollection","features":[{}]}}"#, features.join(","))).unwrap()
    }

    /// Two coarse units side by side (1: x 0–2, 2: x 2–4), each of four fine ones; unit 3
    /// (x 4–5) has no parts.
    fn locator() -> Locator {
        let mut fine = Vec::new();
        for (coarse, x) in [(1u32, 0.0), (2, 2.0)] {
            for (k, (dx, dy)) in [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)].into_iter().enumerate() {
                fine.push(square(coarse * 10 + k as u32, x + dx, dy, 1.0));
            }
        }
        let coarse = collection(&[square(1, 0.0, 0.0, 2.0), square(2, 2.0, 0.0, 2.0), square(3, 4.0, 0.0, 1.0)]);
        Locator::new(vec![collection(&fine), coarse])
    }

    fn ids(regions: Vec<RegionId>) -> Vec<u32> {
        regions.into_iter().map(|r| r.0).collect()
    }

    #[test]
    fn a_polygon_around_a_unit_takes_it_whole_not_its_parts() {
        let ring = [[-0.01, -0.01], [2.01, -0.01], [2.01, 2.01], [-0.01, 2.01]];
        assert_eq!(ids(locator().regions_covered_by(&ring)), [1]);
    }

    #[test]
    fn a_polygon_over_part_of_a_unit_takes_the_parts_it_covers() {
        // The left half of unit 2: its parts 20 and 22.
        let ring = [[2.0, 0.0], [3.0, 0.0], [3.0, 2.0], [2.0, 2.0], [2.0, 0.0]];
        assert_eq!(ids(locator().regions_covered_by(&ring)), [20, 22]);
        // A unit without parts is taken at a quarter: half of unit 3.
        let ring = [[4.0, 0.0], [4.5, 0.0], [4.5, 1.0], [4.0, 1.0]];
        assert_eq!(ids(locator().regions_covered_by(&ring)), [3]);
    }

    #[test]
    fn a_small_polygon_maps_to_the_regions_it_touches_and_outside_to_none() {
        let ring = [[0.9, 0.4], [1.1, 0.4], [1.1, 0.6], [0.9, 0.6]];
        assert_eq!(ids(locator().regions_covered_by(&ring)), [10, 11]);
        let far = [[10.0, 10.0], [11.0, 10.0], [11.0, 11.0]];
        assert!(locator().regions_covered_by(&far).is_empty());
    }
}
