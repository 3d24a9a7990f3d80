//! A latency histogram in atomics, summarised as percentiles.
//!
//! Bucket bounds grow by about 2× (1 ms to 60 s): a percentile is reported as the upper bound
//! of the bucket it falls in, so it is at most about twice the true value and never below it.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use serde::Serialize;

/// Upper bounds in milliseconds; past the last, a delivery counts in the overflow bucket.
const BOUNDS_MS: [u64; 17] =
    [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 30_000, 60_000, 300_000, 3_600_000];

#[derive(Default)]
pub struct Latency {
    buckets: [AtomicU64; BOUNDS_MS.len() + 1],
    max_micros: AtomicU64,
}

/// Percentiles as bucket upper bounds, in milliseconds; `None` while nothing was delivered.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LatencySummary {
    pub count: u64,
    pub p50: Option<u64>,
    pub p90: Option<u64>,
    pub p99: Option<u64>,
    /// The exact maximum, in milliseconds with a fraction.
    pub max: Option<f64>,
}

/// Latencies counted where they happen, to be added to a shared [`Latency`] at once
/// ([`Latency::add`]): threads that deliver to thousands of sockets each do not contend for the
/// shared counters at every one.
#[derive(Clone, Debug, Default)]
pub struct LatencyCounts {
    buckets: [u64; BOUNDS_MS.len() + 1],
    max_micros: u64,
}

impl LatencyCounts {
    pub fn record(&mut self, latency: Duration) {
        self.buckets[bucket(latency)] += 1;
        self.max_micros = self.max_micros.max(micros(latency));
    }

    /// How many were recorded.
    pub fn count(&self) -> u64 {
        self.buckets.iter().sum()
    }
}

fn bucket(latency: Duration) -> usize {
    let millis = latency.as_secs_f64() * 1e3;
    BOUNDS_MS.iter().position(|&bound| millis <= bound as f64).unwrap_or(BOUNDS_MS.len())
}

fn micros(latency: Duration) -> u64 {
    latency.as_micros().min(u128::from(u64::MAX)) as u64
}

impl Latency {
    pub fn record(&self, latency: Duration) {
        self.buckets[bucket(latency)].fetch_add(1, Relaxed);
        self.max_micros.fetch_max(micros(latency), Relaxed);
    }

    /// Adds what was counted elsewhere.
    pub fn add(&self, counts: &LatencyCounts) {
        for (shared, &count) in self.buckets.iter().zip(&counts.buckets) {
            if count > 0 {
                shared.fetch_add(count, Relaxed);
            }
        }
        self.max_micros.fetch_max(counts.max_micros, Relaxed);
    }

    pub fn summary(&self) -> LatencySummary {
        let counts: Vec<u64> = self.buckets.iter().map(|b| b.load(Relaxed)).collect();
        let count: u64 = counts.iter().sum();
        if count == 0 {
            return LatencySummary::default();
        }
        let percentile = |p: f64| {
            let rank = ((count as f64) * p).ceil().max(1.0) as u64;
            let mut seen = 0;
            for (i, n) in counts.iter().enumerate() {
                seen += n;
                if seen >= rank {
                    // The overflow bucket has no bound: say the maximum.
                    return BOUNDS_MS.get(i).copied().unwrap_or(self.max_micros.load(Relaxed).div_ceil(1000));
                }
            }
            BOUNDS_MS[BOUNDS_MS.len() - 1]
        };
        LatencySummary {
            count,
            p50: Some(percentile(0.5)),
            p90: Some(percentile(0.9)),
            p99: Some(percentile(0.99)),
            max: Some(self.max_micros.load(Relaxed) as f64 / 1e3),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_the_bounds_of_the_buckets_they_fall_in() {
        let latency = Latency::default();
        assert_eq!(latency.summary(), LatencySummary::default());
        for ms in [1, 3, 3, 4, 15, 15, 15, 15, 15, 700] {
            latency.record(Duration::from_millis(ms));
        }
        let summary = latency.summary();
        assert_eq!(summary.count, 10);
        assert_eq!(summary.p50, Some(20), "the 5th of 10 is 15 ms, in the bucket up to 20");
        assert_eq!(summary.p90, Some(20));
        assert_eq!(summary.p99, Some(1_000), "the slowest is 700 ms, in the bucket up to 1 s");
        assert_eq!(summary.max, Some(700.0));
    }

    #[test]
    fn a_latency_past_the_last_bound_reports_its_maximum() {
        let latency = Latency::default();
        latency.record(Duration::from_secs(7_200));
        assert_eq!(latency.summary().p50, Some(7_200_000));
    }
}
