//! Times the two in-memory lookups on this machine:
//! - locating a point among all of Ukraine's hromadas (and raions, oblasts where no hromada),
//! - the 5 nearest of 10,000 shelters.
//!
//! Run: `cargo run --release -p tryvoha-geo --example lookup_bench`
//! Points are uniform over Ukraine's bounding box (a fixed seed, so runs are comparable); each
//! call is timed alone and the percentiles are over calls. See docs/BENCHMARKS.md.

// A measuring tool: a failed unwrap is a broken setup, reported loudly.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Instant;

use tryvoha_core::{Coordinates, Shelter, ShelterId, ShelterInfo, ShelterKind};
use tryvoha_geo::{Locator, ShelterIndex, parse_boundaries};

const HROMADA: &str = include_str!("../../../data/boundaries/ukraine-hromada.geojson");
const RAION: &str = include_str!("../../../data/boundaries/ukraine-raion.geojson");
const OBLAST: &str = include_str!("../../../data/boundaries/ukraine-oblast.geojson");

/// Ukraine's bounding box (data/boundaries): lon 22.137–40.227, lat 44.387–52.38.
const BBOX: [f64; 4] = [22.137, 44.387, 40.227, 52.38];

fn main() {
    let locator = Locator::new([HROMADA, RAION, OBLAST].map(|t| parse_boundaries(t).unwrap()).to_vec());
    let mut random = Lcg(0x2545F4914F6CDD1D);
    let points: Vec<Coordinates> = (0..200_000).map(|_| random.point()).collect();
    let locate = time_each(&points, |p| {
        black_box(locator.locate(*p));
    });
    // The case that matters: people in Ukraine. Only the points that found a region.
    let inside: Vec<Coordinates> = points.iter().copied().filter(|p| locator.locate(*p).is_some()).collect();
    report(
        "locate, points over the bounding box",
        &locate,
        &format!("{} of {} inside a region", inside.len(), points.len()),
    );
    let locate_inside = time_each(&inside, |p| {
        black_box(locator.locate(*p));
    });
    report("locate, points inside Ukraine", &locate_inside, "the hromada (or finest region) found for each");

    let shelters: Vec<Shelter> = (0..10_000u64)
        .map(|id| {
            let at = random.point();
            let info = ShelterInfo::new(at.lat, at.lon, format!("Укриття {id}"), ShelterKind::Basement);
            Shelter { id: ShelterId(id), info }
        })
        .collect();
    let index = ShelterIndex::new(shelters);
    let nearest = time_each(&points, |p| {
        black_box(index.nearest(*p, 5));
    });
    report("nearest 5 of 10,000 shelters", &nearest, "geodesic distances included");
}

/// Nanoseconds per call, sorted.
fn time_each(points: &[Coordinates], mut call: impl FnMut(&Coordinates)) -> Vec<u64> {
    for point in points.iter().take(10_000) {
        call(point); // warm-up: caches and branch predictors
    }
    let mut times: Vec<u64> = points
        .iter()
        .map(|point| {
            let start = Instant::now();
            call(point);
            start.elapsed().as_nanos() as u64
        })
        .collect();
    times.sort_unstable();
    times
}

fn report(what: &str, times: &[u64], note: &str) {
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize] as f64 / 1000.0;
    let mean = times.iter().sum::<u64>() as f64 / times.len() as f64 / 1000.0;
    println!(
        "{what}: p50 {:.2} µs, p90 {:.2} µs, p99 {:.2} µs, max {:.1} µs, mean {mean:.2} µs over {} calls ({note})",
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0),
        times.len()
    );
}

/// A small deterministic generator (Knuth's MMIX LCG): the same points on every run.
struct Lcg(u64);

impl Lcg {
    fn unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    fn point(&mut self) -> Coordinates {
        let lon = BBOX[0] + self.unit() * (BBOX[2] - BBOX[0]);
        let lat = BBOX[1] + self.unit() * (BBOX[3] - BBOX[1]);
        Coordinates::parse(lat, lon).unwrap()
    }
}
