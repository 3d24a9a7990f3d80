//! Which regions contain a point: an R-tree of polygon bounding boxes per level, then the exact
//! point-in-polygon test on the few candidates.

use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};
use tryvoha_core::{Coordinates, RegionId};

use crate::area::Area;

pub(crate) type Entry = GeomWithData<Rectangle<[f64; 2]>, (usize, usize)>;

/// One level's areas (for Ukraine: hromadas, raions or oblast-level units).
pub(crate) struct LevelIndex {
    pub(crate) areas: Vec<Area>,
    pub(crate) tree: RTree<Entry>,
}

/// Locates points among areas of several levels, finest first.
pub struct Locator {
    pub(crate) levels: Vec<LevelIndex>,
}

impl LevelIndex {
    fn new(areas: Vec<Area>) -> LevelIndex {
        let entries = areas
            .iter()
            .enumerate()
            .flat_map(|(area, a)| {
                a.polygons.iter().enumerate().map(move |(polygon, p)| {
                    let [x0, y0, x1, y1] = p.bbox;
                    GeomWithData::new(Rectangle::from_corners([x0, y0], [x1, y1]), (area, polygon))
                })
            })
            .collect();
        LevelIndex { areas, tree: RTree::bulk_load(entries) }
    }

    /// The covering area with the lowest region id: a point on a shared border always gets the
    /// same answer.
    pub(crate) fn locate(&self, point: [f64; 2]) -> Option<RegionId> {
        self.tree
            .locate_in_envelope_intersecting(AABB::from_point(point))
            .filter(|entry| {
                let (area, polygon) = entry.data;
                self.areas[area].polygons[polygon].covers(point)
            })
            .map(|entry| self.areas[entry.data.0].region)
            .min()
    }
}

impl Locator {
    /// `levels` from the finest (hromadas) to the coarsest (oblasts).
    pub fn new(levels: Vec<Vec<Area>>) -> Locator {
        Locator { levels: levels.into_iter().map(LevelIndex::new).collect() }
    }

    /// The finest region containing the point; its ancestors come from the registry. A point in
    /// a unit without finer subdivisions (Kyiv city) gets that unit.
    pub fn locate(&self, at: Coordinates) -> Option<RegionId> {
        self.levels.iter().find_map(|level| level.locate([at.lon, at.lat]))
    }

    /// The areas of one level, finest first, as given.
    pub fn areas(&self, level: usize) -> &[Area] {
        self.levels.get(level).map(|l| l.areas.as_slice()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::area::parse_boundaries;

    fn square(id: u32, x: f64) -> String {
        format!(
            r#"{{"type":"Feature","id":{id},"geometry":{{"type":"Polygon","coordinates":[[[{x},0],[{},0],[{},1],[{x},1],[{x},0]]]}}}}"#,
            x + 1.0,
            x + 1.0
        )
    }

    fn collection(features: &[String]) -> Vec<Area> {
        parse_boundaries(&format!(r#"{{"type":"FeatureCollection","features":[{}]}}"#, features.join(","))).unwrap()
    }

    #[test]
    fn the_finest_level_wins_and_a_shared_border_picks_the_lowest_id() {
        let fine = collection(&[square(20, 0.0), square(10, 1.0)]);
        let coarse = collection(&[square(1, 0.0), square(2, 1.0), square(3, 2.0)]);
        let locator = Locator::new(vec![fine, coarse]);
        let at = |lon, lat| locator.locate(Coordinates::parse(lat, lon).unwrap());
        assert_eq!(at(0.5, 0.5), Some(RegionId(20)));
        assert_eq!(at(1.0, 0.5), Some(RegionId(10)), "on the border of 20 and 10: the lower id");
        assert_eq!(at(2.5, 0.5), Some(RegionId(3)), "no finer unit there: the coarse one");
        assert_eq!(at(9.0, 0.5), None);
    }
}
