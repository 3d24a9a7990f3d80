//! A region's record as charts: alerts per day, how long they lasted, at what hour they began
//! (Kyiv time), and the time under alert this month. Figures are computed here from the
//! alert intervals; each chart is an SVG of bars with each bar's figure in its title, drawn on
//! the server (no chart library, no script).

use time::{Date, Duration, OffsetDateTime};
use tryvoha_history::{Interval, region_totals, to_kyiv};

use crate::html::{escape, put};

/// Alerts that began on each of the `days` Kyiv dates up to and including `now`'s.
pub fn per_day(intervals: &[Interval], now: OffsetDateTime, days: u16) -> Vec<(Date, usize)> {
    let today = to_kyiv(now).date();
    let first = today - Duration::days(i64::from(days) - 1);
    let mut counts: Vec<(Date, usize)> = (0..i64::from(days)).map(|d| (first + Duration::days(d), 0)).collect();
    for interval in intervals {
        let day = to_kyiv(interval.start).date();
        if day >= first && day <= today {
            let index = (day - first).whole_days() as usize;
            counts[index].1 += 1;
        }
    }
    counts
}

/// The limits of the duration classes, in minutes; the last class is everything longer.
pub const DURATION_CLASSES: [(i64, &str); 7] =
    [(15, "<15′"), (30, "15–30′"), (60, "30–60′"), (120, "1–2h"), (240, "2–4h"), (480, "4–8h"), (i64::MAX, ">8h")];

/// How many of the alerts that began in [from, to) lasted how long, by [`DURATION_CLASSES`].
pub fn durations(intervals: &[Interval], from: OffsetDateTime, to: OffsetDateTime) -> Vec<usize> {
    let mut counts = vec![0; DURATION_CLASSES.len()];
    for interval in intervals.iter().filter(|i| i.start >= from && i.start < to) {
        let minutes = (interval.end - interval.start).whole_minutes();
        let class =
            DURATION_CLASSES.iter().position(|(limit, _)| minutes < *limit).unwrap_or(DURATION_CLASSES.len() - 1);
        counts[class] += 1;
    }
    counts
}

/// Alerts that began in [from, to) by Kyiv hour of day, 0–23.
pub fn by_hour(intervals: &[Interval], from: OffsetDateTime, to: OffsetDateTime) -> [usize; 24] {
    let mut counts = [0; 24];
    for interval in intervals.iter().filter(|i| i.start >= from && i.start < to) {
        counts[usize::from(to_kyiv(interval.start).hour())] += 1;
    }
    counts
}

/// Seconds under alert from the start of `now`'s Kyiv month until `now`, overlaps merged.
pub fn this_month(intervals: &[Interval], now: OffsetDateTime) -> i64 {
    region_totals(intervals, month_start(now), now).time_under_alert_s
}

/// The start of `now`'s Kyiv month.
pub fn month_start(now: OffsetDateTime) -> OffsetDateTime {
    let local = to_kyiv(now);
    let midnight = local.replace_day(1).map(|d| d.replace_time(time::Time::MIDNIGHT)).unwrap_or(local);
    // The offset then may differ from now's (summer time begins and ends within a month).
    let offset = to_kyiv(midnight).offset();
    midnight.replace_offset(offset).to_offset(time::UtcOffset::UTC)
}

/// A bar chart: one bar per value, labels under every `label_every`-th bar.
pub fn bar_chart(out: &mut String, title: &str, bars: &[(String, usize)], label_every: usize) {
    let (width, height, base) = (600.0, 160.0, 140.0);
    let most = bars.iter().map(|(_, v)| *v).max().unwrap_or(0);
    // An empty chart is drawn flat, not divided by zero.
    let max = most.max(1) as f64;
    let step = width / bars.len().max(1) as f64;
    let total: usize = bars.iter().map(|(_, v)| v).sum();
    put(
        out,
        format_args!(
            "<figure class=\"chart\"><figcaption>{title}</figcaption>\
             <svg viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{title}: {total}\" class=\"bars\">",
            title = escape(title),
        ),
    );
    for (index, (label, value)) in bars.iter().enumerate() {
        let bar = (*value as f64 / max) * (base - 10.0);
        let x = index as f64 * step;
        put(
            out,
            format_args!(
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{bar:.1}\"><title>{label}: {value}</title></rect>",
                y = base - bar,
                w = (step * 0.8).max(1.0),
                label = escape(label),
            ),
        );
        if label_every > 0 && index % label_every == 0 {
            put(out, format_args!("<text x=\"{x:.1}\" y=\"156\">{}</text>", escape(label)));
        }
    }
    put(
        out,
        format_args!("<text x=\"{width}\" y=\"10\" text-anchor=\"end\">max {}</text></svg></figure>", max as usize),
    );
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn interval(start: OffsetDateTime, minutes: i64) -> Interval {
        Interval { start, end: start + Duration::minutes(minutes) }
    }

    #[test]
    fn alerts_count_on_the_kyiv_day_and_hour_they_began() {
        // 22:30 UTC on 14 July is 01:30 on the 15th in Kyiv (summer time, UTC+3).
        let now = datetime!(2024-07-16 12:00 UTC);
        let intervals = [interval(datetime!(2024-07-14 22:30 UTC), 40), interval(datetime!(2024-07-16 08:00 UTC), 200)];
        let days = per_day(&intervals, now, 3);
        assert_eq!(days.iter().map(|(_, n)| *n).collect::<Vec<_>>(), [0, 1, 1]);
        assert_eq!(days[1].0, time::macros::date!(2024 - 07 - 15));
        let hours = by_hour(&intervals, now - Duration::days(30), now);
        assert_eq!((hours[1], hours[11], hours.iter().sum::<usize>()), (1, 1, 2));
        assert_eq!(durations(&intervals, now - Duration::days(30), now), [0, 0, 1, 0, 1, 0, 0]);
    }

    #[test]
    fn time_under_alert_this_month_starts_at_the_kyiv_month() {
        // The first alert ends 30 minutes into 1 August, Kyiv time; the second overlaps itself.
        let now = datetime!(2024-08-02 12:00 UTC);
        let intervals = [
            interval(datetime!(2024-07-31 20:30 UTC), 60),
            interval(datetime!(2024-08-01 10:00 UTC), 60),
            interval(datetime!(2024-08-01 10:30 UTC), 60),
        ];
        assert_eq!(this_month(&intervals, now), 30 * 60 + 90 * 60);
    }
}
