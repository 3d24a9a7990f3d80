//! The time formats these APIs use, exactly as their clients parse them.

use time::OffsetDateTime;
use time::macros::format_description;

/// `2024-05-06T10:02:45.123Z` (both APIs' alert times).
pub fn milliseconds(at: OffsetDateTime) -> String {
    at.format(format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"))
        .unwrap_or_default()
}

/// `2026-09-25T08:57:49Z` (ukrainealarm's history).
pub fn whole_seconds(at: OffsetDateTime) -> String {
    at.format(format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z")).unwrap_or_default()
}

/// `2024/05/06 10:02:45 +0000` (alerts.in.ua's `meta.last_updated_at`).
pub fn meta_time(at: OffsetDateTime) -> String {
    at.format(format_description!("[year]/[month]/[day] [hour]:[minute]:[second] +0000")).unwrap_or_default()
}
