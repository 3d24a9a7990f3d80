//! Europe/Kyiv local time, from the IANA time-zone database bundled into the binary (jiff), so
//! statistics come out the same on a machine without /usr/share/zoneinfo and follow the real
//! history of the zone rather than a rule written down here.

use std::sync::LazyLock;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use time::{OffsetDateTime, UtcOffset};

static KYIV: LazyLock<TimeZone> = LazyLock::new(|| {
    // The bundled database is compiled in and has carried Europe/Kyiv since tzdata 2022b; the
    // test `the_bundled_database_knows_kyiv` guards the name.
    TimeZone::get("Europe/Kyiv").expect("the bundled time-zone database has Europe/Kyiv")
});

/// The offset from UTC in Kyiv at the instant `at`, in whole hours (Kyiv's offsets have all been
/// whole hours since 1924).
pub fn kyiv_offset_hours(at: OffsetDateTime) -> i8 {
    (kyiv_offset_seconds(at) / 3600) as i8
}

/// The same instant, shown in Kyiv local time. An instant whose Kyiv date would fall past the
/// years `time` can show (the last hours of 9999 UTC, from an imported record) is shown as it
/// came: `to_offset` would panic there.
pub fn to_kyiv(at: OffsetDateTime) -> OffsetDateTime {
    let offset = UtcOffset::from_whole_seconds(kyiv_offset_seconds(at)).unwrap_or(UtcOffset::UTC);
    at.checked_to_offset(offset).unwrap_or(at)
}

fn kyiv_offset_seconds(at: OffsetDateTime) -> i32 {
    // Instants outside jiff's range (years beyond ±9999) get the offset of the nearest end.
    let instant = Timestamp::from_second(at.unix_timestamp()).unwrap_or(if at.unix_timestamp() < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    });
    KYIV.to_offset(instant).seconds()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;
    use time::{Date, Duration, Month, Weekday};

    fn last_sunday(year: i32, month: Month) -> Date {
        let mut day = Date::from_calendar_date(year, month, month.length(year)).unwrap();
        while day.weekday() != Weekday::Sunday {
            day -= Duration::days(1);
        }
        day
    }

    #[test]
    fn the_bundled_database_knows_kyiv() {
        assert_eq!(KYIV.iana_name(), Some("Europe/Kyiv"));
    }

    #[test]
    fn summer_time_starts_and_ends_on_the_eu_dates() {
        // 2023: 26 March and 29 October, at 01:00 UTC.
        assert_eq!(kyiv_offset_hours(datetime!(2023-03-26 00:59:59 UTC)), 2);
        assert_eq!(kyiv_offset_hours(datetime!(2023-03-26 01:00:00 UTC)), 3);
        assert_eq!(kyiv_offset_hours(datetime!(2023-10-29 00:59:59 UTC)), 3);
        assert_eq!(kyiv_offset_hours(datetime!(2023-10-29 01:00:00 UTC)), 2);
        // 2022: 27 March and 30 October; 2024: 31 March and 27 October.
        assert_eq!(kyiv_offset_hours(datetime!(2022-03-27 00:59:59 UTC)), 2);
        assert_eq!(kyiv_offset_hours(datetime!(2022-03-27 01:00 UTC)), 3);
        assert_eq!(kyiv_offset_hours(datetime!(2022-10-30 00:59:59 UTC)), 3);
        assert_eq!(kyiv_offset_hours(datetime!(2022-10-30 01:00 UTC)), 2);
        assert_eq!(kyiv_offset_hours(datetime!(2024-03-31 00:30 UTC)), 2);
        assert_eq!(kyiv_offset_hours(datetime!(2024-03-31 01:00 UTC)), 3);
        assert_eq!(kyiv_offset_hours(datetime!(2024-10-27 00:30 UTC)), 3);
        assert_eq!(kyiv_offset_hours(datetime!(2024-10-27 01:00 UTC)), 2);
    }

    #[test]
    fn every_change_of_the_dataset_years_and_after_is_on_a_last_sunday_at_one_utc() {
        for year in 2022..=2030 {
            for (month, hours_before) in [(Month::March, 2), (Month::October, 3)] {
                let change = last_sunday(year, month).midnight().assume_utc() + Duration::hours(1);
                assert_eq!(kyiv_offset_hours(change - Duration::seconds(1)), hours_before, "{year} {month}");
                assert_eq!(kyiv_offset_hours(change), 5 - hours_before, "{year} {month}");
            }
            assert_eq!(kyiv_offset_hours(datetime!(2024-01-15 12:00 UTC).replace_year(year).unwrap()), 2, "{year}");
            assert_eq!(kyiv_offset_hours(datetime!(2024-07-15 12:00 UTC).replace_year(year).unwrap()), 3, "{year}");
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

    #[test]
    fn the_last_hours_of_the_year_9999_are_shown_without_a_panic() {
        // Found by the history fuzz target (crates/history/fuzz): 23:00 UTC is 01:00 on the
        // first of January 10000 in Kyiv, which `time` cannot show.
        let last = datetime!(9999-12-31 23:00 UTC);
        assert_eq!(to_kyiv(last), last);
        assert_eq!(to_kyiv(datetime!(9999-12-31 21:00 UTC)).hour(), 23);
    }

    #[test]
    fn an_instant_given_with_another_offset_is_the_same_instant_in_kyiv() {
        let local = to_kyiv(datetime!(2022-02-24 05:00 +02:00));
        assert_eq!((local.hour(), local.offset().whole_hours()), (5, 2));
        assert_eq!(to_kyiv(datetime!(2022-06-01 00:00 -04:00)).hour(), 7);
    }
}
