//! Any text as the query string of every request the API takes, and each parameter's value as
//! the handlers read it (stream filters, `bbox`, `from`/`to`, `source`, the export's `regions`
//! and `cursor`, the incident list) and as a header value (`Authorization`, `Last-Event-ID`).
//! Each must return, never panic, hang or blow up memory, and refuse with a 400 naming the
//! parameter. What is accepted must hold what the handler relies on: a parsed query written
//! again reads back the same, a bbox is ordered and on the globe, a range is not empty, and a
//! cursor names a position the store can hold and reads back from the cursor written for it.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use time::OffsetDateTime;
use time::macros::datetime;
use tryvoha_core::RegionRegistry;
use tryvoha_http::ApiError;
use tryvoha_http::fuzzing::{
    bearer_secret, export_cursor, export_cursor_text, export_regions, history_sources, incident_list, is_storable,
    last_event_id, parse_query, queries, query_parameters, shelter_bbox, stream_filter_list, time_range,
};

/// The registry the server bundles, so that region ids are looked up as in production.
static REGISTRY: LazyLock<RegionRegistry> = LazyLock::new(|| {
    // The bundled file is valid: the server's own tests load it.
    RegionRegistry::from_csv(include_str!("../../../../data/regions/ukraine.csv")).expect("the bundled registry")
});

/// The server's clock for `to=`'s default: a fixed time, so that a crash reproduces.
const NOW: OffsetDateTime = datetime!(2025-06-01 12:00 UTC);

/// The longest stream filter list taken (`stream::MAX_FILTER_ITEMS`).
const MAX_FILTER_ITEMS: usize = 512;

fuzz_target!(|data: &[u8]| {
    // A request's path is text: hyper and httparse hand over nothing else.
    let Ok(query) = std::str::from_utf8(data) else { return };
    for (name, verdict) in queries(query) {
        if let Err(error) = verdict {
            check_refusal(name, &error);
        }
    }
    check_written_again(query);
    match incident_list(query, &REGISTRY) {
        Ok(list) => assert!((1..=1000).contains(&list.limit), "incident limit {}", list.limit),
        Err(error) => check_refusal("IncidentListQuery", &error),
    }
    let Ok(parameters) = query_parameters(query) else { return };
    for (name, value) in &parameters {
        if let Some(list) = stream_filter_list(name, value, &REGISTRY) {
            match list {
                Ok(count) => assert!(count <= MAX_FILTER_ITEMS, "{name} took {count} values"),
                Err(error) => check_refusal(name, &error),
            }
        }
        check_value(name, value);
        check_headers(value);
    }
    match time_range(parameters.get("from").map(String::as_str), parameters.get("to").map(String::as_str), NOW) {
        Ok((from, to)) => assert!(from < to, "an empty range {from} .. {to}"),
        Err(error) => check_refusal("from/to", &error),
    }
});

/// Pairs read from a query, written with the standard encoding, read back the same: what the
/// export does when it writes the next page's query from the request's own parameters.
fn check_written_again(query: &str) {
    let Ok(pairs) = parse_query::<Vec<(String, String)>>(query) else { return };
    let written = serde_urlencoded::to_string(&pairs).expect("pairs of strings always encode");
    let read_back: Vec<(String, String)> =
        parse_query(&written).unwrap_or_else(|error| panic!("{written:?} does not read back: {error:?}"));
    assert_eq!(read_back, pairs, "written as {written:?}");
}

fn check_value(name: &str, value: &str) {
    match name {
        "bbox" => match shelter_bbox(value) {
            Ok([x0, y0, x1, y1]) => {
                assert!(x0 <= x1 && y0 <= y1, "bbox {value:?} is not ordered");
                assert!([x0, x1].iter().all(|x| (-180.0..=180.0).contains(x)), "bbox {value:?}");
                assert!([y0, y1].iter().all(|y| (-90.0..=90.0).contains(y)), "bbox {value:?}");
            }
            Err(error) => check_refusal(name, &error),
        },
        "source" => match history_sources(value) {
            Ok(sources) => assert!(sources.is_some_and(|s| s.iter().all(|s| !s.is_empty() && s.trim() == s))),
            Err(error) => check_refusal(name, &error),
        },
        "regions" => match export_regions(value, &REGISTRY) {
            Ok(regions) => assert!(regions.iter().all(|region| REGISTRY.get(*region).is_some())),
            Err(error) => check_refusal(name, &error),
        },
        "cursor" => match export_cursor(value) {
            Ok(position) => {
                // A position past the store's integers would reach the store as a fault of the
                // storage (PostgreSQL) or as another position (SQLite), not as a bad cursor.
                assert!(is_storable(position.id), "cursor {value:?} names id {}", position.id);
                let written = export_cursor_text(position);
                let read_back = export_cursor(&written)
                    .unwrap_or_else(|error| panic!("cursor {written:?} for {value:?} is refused: {error:?}"));
                assert_eq!(read_back, position, "cursor {value:?} written as {written:?}");
            }
            Err(error) => check_refusal(name, &error),
        },
        _ => {}
    }
}

/// The value as the headers the handlers parse themselves.
fn check_headers(value: &str) {
    if let Some(secret) = bearer_secret(value) {
        assert!(!secret.is_empty() && secret.trim() == secret, "secret {secret:?} of {value:?}");
        assert!(value.contains(secret));
    }
    match last_event_id(value.as_bytes()) {
        Ok(seq) => assert_eq!(value.trim().parse::<u64>().ok(), Some(seq), "Last-Event-ID {value:?}"),
        Err(error) => check_refusal("Last-Event-ID", &error),
    }
}

fn check_refusal(name: &str, error: &ApiError) {
    assert!(matches!(error.code, "invalid-query" | "list-too-long"), "{name}: refused with {error:?}");
    assert_eq!(error.status.as_u16(), 400, "{name}: {error:?}");
    assert!(error.field.as_deref().is_some_and(|field| !field.is_empty()), "{name}: names no parameter: {error:?}");
    let document: serde_json::Value = serde_json::from_slice(&error.document())
        .unwrap_or_else(|e| panic!("{name}: the problem document is not JSON ({e}): {error:?}"));
    assert_eq!(document["code"], error.code, "{name}");
}
