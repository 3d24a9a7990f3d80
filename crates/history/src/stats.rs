//! Statistics of a region's alerts: how many, how long, and when in Kyiv local time.
//!
//! Definitions (docs/history.md):
//! - the alerts counted are those on the region or an ancestor that **started** in `[from, to)`;
//!   their count, total, mean, median and longest durations are of the whole alert;
//! - time under alert is the measure of the union of all those alerts' intervals (overlaps
//!   merged: an oblast alert during a raion alert counts once), clipped to `[from, to)`; it is
//!   split into local hours, weekdays and months the same way.

use std::collections::BTreeMap;

use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::kyiv_time::to_kyiv;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interval {
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
}

#[derive(Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = AlertFigures))]
pub struct RegionStats {
    /// Real alerts on the region or an ancestor that started in [from, to).
    pub alerts: usize,
    pub total_duration_s: i64,
    pub mean_duration_s: Option<f64>,
    pub median_duration_s: Option<f64>,
    pub longest_duration_s: Option<i64>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub longest_started_at: Option<OffsetDateTime>,
    /// Union of the alert intervals, overlaps merged, clipped to the range.
    pub time_under_alert_s: i64,
    /// 24 slots, local hours 0–23.
    pub by_hour: Vec<Slot>,
    /// 7 slots, Monday first.
    pub by_weekday: Vec<Slot>,
    /// One slot per local month (`2024-03`) with any alert or time under alert.
    pub by_month: Vec<Slot>,
}

/// Alerts that started in the slot, and seconds under alert within it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Slot {
    pub slot: String,
    pub alerts: usize,
    pub under_alert_s: i64,
}

const WEEKDAYS: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

/// The headline figures without the per-slot breakdown (no walk through every hour): for
/// ranking many regions at once.
#[derive(Debug, PartialEq, Serialize)]
pub struct Totals {
    pub alerts: usize,
    pub time_under_alert_s: i64,
    pub mean_duration_s: Option<f64>,
    pub median_duration_s: Option<f64>,
    pub longest_duration_s: Option<i64>,
}

pub fn region_totals(intervals: &[Interval], from: OffsetDateTime, to: OffsetDateTime) -> Totals {
    let mut durations: Vec<i64> = intervals
        .iter()
        .filter(|i| i.start >= from && i.start < to)
        .map(|i| (i.end - i.start).whole_seconds())
        .collect();
    durations.sort_unstable();
    Totals {
        alerts: durations.len(),
        time_under_alert_s: merge(intervals, from, to).iter().map(|i| (i.end - i.start).whole_seconds()).sum(),
        mean_duration_s: (!durations.is_empty()).then(|| durations.iter().sum::<i64>() as f64 / durations.len() as f64),
        median_duration_s: median(&durations),
        longest_duration_s: durations.last().copied(),
    }
}

pub fn region_stats(intervals: &[Interval], from: OffsetDateTime, to: OffsetDateTime) -> RegionStats {
    let mut hours: Vec<Slot> = (0..24).map(|h| Slot { slot: format!("{h:02}"), ..Slot::default() }).collect();
    let mut weekdays: Vec<Slot> = WEEKDAYS.iter().map(|d| Slot { slot: (*d).to_owned(), ..Slot::default() }).collect();
    let mut months: BTreeMap<(i32, u8), Slot> = BTreeMap::new();

    let started: Vec<&Interval> = intervals.iter().filter(|i| i.start >= from && i.start < to).collect();
    let mut durations: Vec<i64> = started.iter().map(|i| (i.end - i.start).whole_seconds()).collect();
    for interval in &started {
        let local = to_kyiv(interval.start);
        hours[usize::from(local.hour())].alerts += 1;
        weekdays[usize::from(local.weekday().number_days_from_monday())].alerts += 1;
        month_slot(&mut months, local).alerts += 1;
    }

    let union = merge(intervals, from, to);
    let mut under_alert = 0;
    for piece in &union {
        // Offsets are whole hours, so local hours start on UTC hour boundaries. The hour after
        // the last one `time` can show (23:00 UTC on 31 December 9999) is none: that last hour
        // runs to the end of the piece.
        let mut cursor = piece.start;
        while cursor < piece.end {
            let next_hour = cursor
                .replace_minute(0)
                .and_then(|c| c.replace_second(0))
                .and_then(|c| c.replace_nanosecond(0))
                .unwrap_or(cursor)
                .checked_add(Duration::hours(1))
                .unwrap_or(piece.end);
            let until = next_hour.min(piece.end);
            let seconds = (until - cursor).whole_seconds();
            let local = to_kyiv(cursor);
            hours[usize::from(local.hour())].under_alert_s += seconds;
            weekdays[usize::from(local.weekday().number_days_from_monday())].under_alert_s += seconds;
            month_slot(&mut months, local).under_alert_s += seconds;
            under_alert += seconds;
            cursor = until;
        }
    }

    durations.sort_unstable();
    let longest = started.iter().max_by_key(|i| (i.end - i.start, std::cmp::Reverse(i.start)));
    RegionStats {
        alerts: started.len(),
        total_duration_s: durations.iter().sum(),
        mean_duration_s: (!durations.is_empty()).then(|| durations.iter().sum::<i64>() as f64 / durations.len() as f64),
        median_duration_s: median(&durations),
        longest_duration_s: longest.map(|i| (i.end - i.start).whole_seconds()),
        longest_started_at: longest.map(|i| i.start),
        time_under_alert_s: under_alert,
        by_hour: hours,
        by_weekday: weekdays,
        by_month: months.into_values().collect(),
    }
}

/// The union of the intervals, clipped to `[from, to)`, in order.
fn merge(intervals: &[Interval], from: OffsetDateTime, to: OffsetDateTime) -> Vec<Interval> {
    let mut clipped: Vec<Interval> = intervals
        .iter()
        .map(|i| Interval { start: i.start.max(from), end: i.end.min(to) })
        .filter(|i| i.start < i.end)
        .collect();
    clipped.sort_by_key(|i| i.start);
    let mut union: Vec<Interval> = Vec::with_capacity(clipped.len());
    for interval in clipped {
        match union.last_mut() {
            Some(last) if interval.start <= last.end => last.end = last.end.max(interval.end),
            _ => union.push(interval),
        }
    }
    union
}

fn median(sorted: &[i64]) -> Option<f64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2] as f64),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) as f64 / 2.0),
    }
}

/// Keyed by numbers (this runs for every hour under alert); the label is made once per month.
fn month_slot(months: &mut BTreeMap<(i32, u8), Slot>, local: OffsetDateTime) -> &mut Slot {
    let key = (local.year(), u8::from(local.month()));
    months.entry(key).or_insert_with(|| Slot { slot: format!("{:04}-{:02}", key.0, key.1), ..Slot::default() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn at(start: OffsetDateTime, minutes: i64) -> Interval {
        Interval { start, end: start + Duration::minutes(minutes) }
    }

    const FROM: OffsetDateTime = datetime!(2022-01-01 00:00 UTC);
    const TO: OffsetDateTime = datetime!(2025-01-01 00:00 UTC);

    #[test]
    fn overlapping_alerts_count_once_in_time_under_alert() {
        // An oblast alert 10:00–11:00 UTC and a raion alert 10:30–11:30 inside and beyond it.
        let intervals = [at(datetime!(2023-06-01 10:00 UTC), 60), at(datetime!(2023-06-01 10:30 UTC), 60)];
        let stats = region_stats(&intervals, FROM, TO);
        assert_eq!((stats.alerts, stats.total_duration_s, stats.time_under_alert_s), (2, 7200, 5400));
        let totals = region_totals(&intervals, FROM, TO);
        assert_eq!(
            (totals.alerts, totals.time_under_alert_s, totals.median_duration_s, totals.longest_duration_s),
            (stats.alerts, stats.time_under_alert_s, stats.median_duration_s, stats.longest_duration_s),
            "the totals agree with the full statistics"
        );
        assert_eq!(
            (stats.mean_duration_s, stats.median_duration_s, stats.longest_duration_s),
            (Some(3600.0), Some(3600.0), Some(3600))
        );
        assert_eq!(stats.longest_started_at, Some(datetime!(2023-06-01 10:00 UTC)), "the earlier of equally long ones");
        // Summer: 10:00 UTC is 13:00 in Kyiv.
        assert_eq!((stats.by_hour[13].alerts, stats.by_hour[13].under_alert_s), (2, 3600));
        assert_eq!(stats.by_hour[14].under_alert_s, 1800);
        assert_eq!(stats.by_weekday[3].slot, "thursday");
        assert_eq!(stats.by_weekday[3].under_alert_s, 5400);
        assert_eq!(stats.by_month, vec![Slot { slot: "2023-06".into(), alerts: 2, under_alert_s: 5400 }]);
    }

    #[test]
    fn the_hour_of_day_follows_daylight_saving() {
        // 22:30 UTC on 25 March 2023 is 00:30 (winter, +2); on 26 March 2023 it is 01:30 (+3).
        let winter = region_stats(&[at(datetime!(2023-03-25 22:30 UTC), 10)], FROM, TO);
        let summer = region_stats(&[at(datetime!(2023-03-26 22:30 UTC), 10)], FROM, TO);
        assert_eq!((winter.by_hour[0].alerts, summer.by_hour[1].alerts), (1, 1));
        // Through the autumn change (01:00 UTC, 29 Oct 2023): 00:00–02:00 UTC is local
        // 03:00–04:00 (+3), then 03:00–04:00 again (+2): two hours in the 03 slot.
        let night = region_stats(&[at(datetime!(2023-10-29 00:00 UTC), 120)], FROM, TO);
        assert_eq!(night.by_hour[3].under_alert_s, 7200);
        assert_eq!(night.time_under_alert_s, 7200);
    }

    #[test]
    fn the_range_clips_time_under_alert_and_selects_alerts_by_start() {
        let intervals = [at(datetime!(2023-12-31 23:00 UTC), 120), at(datetime!(2024-01-01 05:00 UTC), 30)];
        let stats = region_stats(&intervals, datetime!(2024-01-01 00:00 UTC), datetime!(2024-02-01 00:00 UTC));
        assert_eq!(stats.alerts, 1, "the first started before the range");
        assert_eq!(stats.time_under_alert_s, 3600 + 1800, "but its last hour is inside");
        let empty = region_stats(&[], FROM, TO);
        assert_eq!((empty.alerts, empty.mean_duration_s, empty.longest_duration_s), (0, None, None));
    }

    #[test]
    fn an_alert_in_the_last_hour_of_the_year_9999_is_counted_without_a_panic() {
        // Found by the history fuzz target (crates/history/fuzz): a record the importer takes,
        // asked for with a `to` at the end of time; the hour after 23:00 cannot be shown.
        let end = datetime!(9999-12-31 23:59:59 UTC);
        let alert = Interval { start: datetime!(9999-12-31 22:30 UTC), end };
        let stats = region_stats(&[alert], datetime!(9999-12-30 00:00 UTC), end);
        assert_eq!((stats.alerts, stats.time_under_alert_s), (1, 5399));
        assert_eq!(stats.by_hour.iter().map(|slot| slot.under_alert_s).sum::<i64>(), 5399);
    }
}
