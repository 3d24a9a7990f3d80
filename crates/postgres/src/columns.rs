//! How values cross into columns and back, as tryvoha-sqlite stores them: ids and sequence
//! numbers (u64 in the domain, BIGINT here, so a value past i64::MAX is refused, never
//! wrapped), JSON text, RFC 3339 text; and driver errors as [`StoreError`].

use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio_postgres::Row;
use tokio_postgres::types::FromSql;
use tryvoha_store::{StoreError, StoreResult};

pub(crate) fn unavailable(error: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Unavailable(Box::new(error))
}

/// A stored value this build cannot read (an unknown kind, a malformed time).
pub(crate) fn corrupt(what: String) -> StoreError {
    StoreError::Unavailable(what.into())
}

/// A u64 id or sequence number as a BIGINT.
pub(crate) fn bigint(value: u64) -> StoreResult<i64> {
    i64::try_from(value).map_err(|_| corrupt(format!("{value} does not fit a BIGINT column")))
}

/// Every value of `values` as a BIGINT, for an array parameter.
pub(crate) fn bigints(values: impl IntoIterator<Item = u64>) -> StoreResult<Vec<i64>> {
    values.into_iter().map(bigint).collect()
}

/// Column `index` of `row`.
pub(crate) fn get<'a, T: FromSql<'a>>(row: &'a Row, index: usize) -> StoreResult<T> {
    row.try_get(index).map_err(unavailable)
}

/// A BIGINT column holding a u64 id or sequence number.
pub(crate) fn get_u64(row: &Row, index: usize) -> StoreResult<u64> {
    let value: i64 = get(row, index)?;
    u64::try_from(value).map_err(|_| corrupt(format!("a negative id or sequence number ({value}) is stored")))
}

/// A BIGINT column holding a u32 (a region id).
pub(crate) fn get_u32(row: &Row, index: usize) -> StoreResult<u32> {
    let value: i64 = get(row, index)?;
    u32::try_from(value).map_err(|_| corrupt(format!("region id {value} is out of range")))
}

pub(crate) fn encode<T: Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(unavailable)
}

pub(crate) fn decode<T: DeserializeOwned>(text: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(unavailable)
}

pub(crate) fn rfc3339(at: OffsetDateTime) -> StoreResult<String> {
    at.format(&Rfc3339).map_err(unavailable)
}

pub(crate) fn parse_rfc3339(text: &str) -> StoreResult<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).map_err(unavailable)
}

/// History times: unix milliseconds, as SQLite keeps them (a page position read back is the
/// position a query compares against).
pub(crate) fn millis(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000_000) as i64
}

pub(crate) fn from_millis(value: i64) -> StoreResult<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(value) * 1_000_000).map_err(unavailable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_past_the_bigint_range_are_refused_not_wrapped() {
        assert_eq!(bigint(i64::MAX as u64).unwrap(), i64::MAX);
        assert!(matches!(bigint(i64::MAX as u64 + 1), Err(StoreError::Unavailable(_))));
    }

    #[test]
    fn times_round_trip_as_sqlite_keeps_them() {
        let at = time::macros::datetime!(2026-11-27 01:00:00.123456789 +02:00);
        assert_eq!(parse_rfc3339(&rfc3339(at).unwrap()).unwrap(), at, "to the nanosecond");
        assert_eq!(from_millis(millis(at)).unwrap(), time::macros::datetime!(2026-11-26 23:00:00.123 UTC));
    }
}
