//! Europe/Kyiv local time without a time-zone database: UTC+2, and UTC+3 from the last Sunday
//! of March 01:00 UTC to the last Sunday of October 01:00 UTC (the EU rule Ukraine follows).

use time::{Date, Duration, Month, OffsetDateTime, UtcOffset, Weekday};

/// The offset from UTC in Kyiv at the instant `at`.
pub fn kyiv_offset_hours(at: OffsetDateTime) -> i8 {
    let at = at.to_offset(UtcOffset::UTC);
    let year = at.year();
    // Statistics call this for every alert and every hour under alert: the day of the last
    // Sunday comes from a closed formula (valid 1900–2099), checked against a calendar walk in
    // the tests.
    let (march, october) = if (1900..2100).contains(&year) {
        let y = year as i64;
        (31 - ((5 * y / 4 + 4) % 7) as u8, 31 - ((5 * y / 4 + 1) % 7) as u8)
    } else {
        (last_sunday(year, Month::March).day(), last_sunday(year, Month::October).day())
    };
    let change =
        |month, day| Date::from_calendar_date(year, month, day).map(|d| d.midnight().assume_utc() + Duration::hours(1));
    match (change(Month::March, march), change(Month::October, october)) {
        (Ok(starts), Ok(ends)) if at >= starts && at < ends => 3,
        _ => 2,
    }
}

/// The same instant, shown in Kyiv local time.
pub fn to_kyiv(at: OffsetDateTime) -> OffsetDateTime {
    let offset = UtcOffset::from_hms(kyiv_offset_hours(at), 0, 0).unwrap_or(UtcOffset::UTC);
    at.to_offset(offset)
}

fn last_sunday(year: i32, month: Month) -> Date {
    let next_month_first = match month {
        Month::December => Date::from_calendar_date(year + 1, Month::January, 1),
        _ => Date::from_calendar_date(year, month.next(), 1),
    };
    // Valid dates for any year this code sees; the fallback is never taken.
    let mut day = next_month_first.map(|d| d - Duration::days(1)).unwrap_or(Date::MIN);
    while day.weekday() != Weekday::Sunday {
        day -= Duration::days(1);
    }
    day
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn summer_time_starts_and_ends_on_the_eu_dates() {
        // 2023: 26 March and 29 October, at 01:00 UTC.
        assert_eq!(kyiv_offset_hours(datetime!(2023-03-26 00:59:59 UTC)), 2);
        assert_eq!(kyiv_offset_hours(datetime!(2023-03-26 01:00:00 UTC)), 3);
        assert_eq!(kyiv_offset_hours(datetime!(2023-10-29 00:59:59 UTC)), 3);
        assert_eq!(kyiv_offset_hours(datetime!(2023-10-29 01:00:00 UTC)), 2);
        // 2022: 27 March and 30 October; 2024: 31 March and 27 October.
        assert_eq!(kyiv_offset_hours(datetime!(2022-03-27 01:00 UTC)), 3);
        assert_eq!(kyiv_offset_hours(datetime!(2022-10-30 01:00 UTC)), 2);
        assert_eq!(kyiv_offset_hours(datetime!(2024-03-31 00:30 UTC)), 2);
        assert_eq!(kyiv_offset_hours(datetime!(2024-10-27 00:30 UTC)), 3);
    }

    #[test]
    fn the_formula_agrees_with_the_calendar_for_every_year_it_serves() {
        for year in 1900..2100 {
            for (month, hour_before) in [(Month::March, 2), (Month::October, 3)] {
                let day = last_sunday(year, month);
                let change = day.midnight().assume_utc() + Duration::hours(1);
                assert_eq!(kyiv_offset_hours(change - Duration::seconds(1)), hour_before, "{year} {month}");
                assert_eq!(kyiv_offset_hours(change), 5 - hour_before, "{year} {month}");
            }
        }
    }

    #[test]
    fn local_hours_around_the_change() {
        // The night summer time began in 2023: 00:30 UTC is 02:30 local, 01:30 UTC is 04:30.
        assert_eq!(to_kyiv(datetime!(2023-03-26 00:30 UTC)).hour(), 2);
        assert_eq!(to_kyiv(datetime!(2023-03-26 01:30 UTC)).hour(), 4);
        // The night it ended: 00:30 UTC is 03:30 local, 01:30 UTC is 03:30 again.
        assert_eq!(to_kyiv(datetime!(2023-10-29 00:30 UTC)).hour(), 3);
        assert_eq!(to_kyiv(datetime!(2023-10-29 01:30 UTC)).hour(), 3);
    }
}
