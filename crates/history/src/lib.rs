//! The record: importing the public air-raid history datasets, and statistics over finished
//! alerts (how often, how long, when, in Kyiv local time).
//!
//! No I/O: files arrive as text, records as values; the store keeps them.

mod dataset;
mod kyiv_time;
mod stats;

pub use dataset::{DatasetRow, HistoryNames, NamesError, SOURCES, read_dataset};
pub use kyiv_time::{kyiv_offset_hours, to_kyiv};
pub use stats::{Interval, RegionStats, Slot, Totals, region_stats, region_totals};
