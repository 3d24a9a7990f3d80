//! Any text as an air-raid history file (`tryvoha import history FILE.csv`), read with the
//! names table the binary bundles. `read_dataset` must return, never panic, hang or blow up
//! memory; and every row it accepts must be a record the store and the statistics can take:
//! an air raid on a region of the registry, ending no earlier than it started, at instants
//! that exist in UTC and in Kyiv time, with the import key that makes re-importing add nothing,
//! and counted by the statistics over a range around its end (a client picks `from` and `to`).

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use time::{Duration, OffsetDateTime};
use tryvoha_core::{AlertKind, AlertLevel, AlertStatus, RegionRegistry};
use tryvoha_history::{HistoryNames, Interval, SOURCES, read_dataset, region_stats, to_kyiv};

/// The names table and the registry, as the binary bundles them (crates/tryvoha/src/import.rs).
static NAMES: LazyLock<HistoryNames> = LazyLock::new(|| {
    // The bundled table is valid: the binary's own tests load it.
    HistoryNames::from_csv(include_str!("../../../../data/regions/ukraine-history-names.csv")).expect("names")
});
static REGISTRY: LazyLock<RegionRegistry> = LazyLock::new(|| {
    RegionRegistry::from_csv(include_str!("../../../../data/regions/ukraine.csv")).expect("the bundled registry")
});

fuzz_target!(|data: &[u8]| {
    // The importer reads the file with `read_to_string`: a file that is not UTF-8 stops there.
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(rows) = read_dataset(text, &NAMES) else { return };
    let mut last_line = 0;
    for row in &rows {
        assert!(row.line >= 1, "line {}", row.line);
        let Ok(imported) = &row.result else { continue };
        // Records come in file order, so their lines do too.
        assert!(row.line >= last_line, "line {} after line {last_line}", row.line);
        last_line = row.line;
        let record = &imported.record;
        assert!(
            REGISTRY.get(record.region_id).is_some(),
            "line {}: region {} is not in the registry",
            row.line,
            record.region_id.0
        );
        assert_eq!(
            (record.kind, record.level, record.status),
            (AlertKind::AirRaid, AlertLevel::Red, AlertStatus::Actual)
        );
        assert!(record.started_at <= record.finished_at, "line {}: ends before it starts", row.line);
        assert!(SOURCES.contains(&record.source.as_str()) && record.source != "live", "source {:?}", record.source);
        for at in [record.started_at, record.finished_at] {
            check_instant(row.line, at);
        }
        let family = if record.source.starts_with("volunteer") { "volunteer" } else { "official" };
        let key = format!("{family}:{}:{}", record.region_id.0, record.started_at.unix_timestamp());
        assert_eq!(imported.key, key, "line {}", row.line);
        check_statistics(row.line, Interval { start: record.started_at, end: record.finished_at });
    }
});

/// The statistics over the day before the alert's end and a second after it: a day is at most
/// 25 local hours to walk, however long the alert.
fn check_statistics(line: usize, alert: Interval) {
    let from = alert.end.checked_sub(Duration::DAY).unwrap_or(alert.start);
    let to = alert.end.checked_add(Duration::SECOND).unwrap_or(alert.end);
    let stats = region_stats(&[alert], from, to);
    let expected = (alert.end.min(to) - alert.start.max(from)).whole_seconds().max(0);
    assert_eq!(stats.time_under_alert_s, expected, "line {line}: time under alert");
    let by_hour: i64 = stats.by_hour.iter().map(|slot| slot.under_alert_s).sum();
    let by_weekday: i64 = stats.by_weekday.iter().map(|slot| slot.under_alert_s).sum();
    assert_eq!((by_hour, by_weekday), (expected, expected), "line {line}: the slots do not add up");
    assert_eq!(stats.alerts, usize::from(alert.start >= from && alert.start < to), "line {line}");
}

/// The store keeps an instant as a count of milliseconds since 1970 and reads it back as UTC;
/// the statistics show it in Kyiv time.
fn check_instant(line: usize, at: OffsetDateTime) {
    let millis = at.unix_timestamp_nanos() / 1_000_000;
    let read_back = OffsetDateTime::from_unix_timestamp_nanos(millis * 1_000_000);
    assert_eq!(read_back.ok(), Some(at), "line {line}: {at} does not read back from the store's milliseconds");
    let local = to_kyiv(at);
    assert_eq!(local, at, "line {line}: {at} in Kyiv time is another instant");
}
