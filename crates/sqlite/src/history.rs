//! Finished alerts in SQLite: written with the event that finishes a live alert, or imported.

use rusqlite::types::Value;
use rusqlite::{Row, Transaction, params, params_from_iter};
use time::OffsetDateTime;
use tryvoha_core::{Alert, AlertKind, AlertLevel, AlertStatus, RegionId};
use tryvoha_store::{
    HistoryOrder, HistoryPosition, HistoryQuery, HistoryRecord, HistoryStore, IMPORTED_ID_BASE, ImportedRecord,
    PageEnd, StoreError, StoreResult,
};

use crate::{SqliteStore, unavailable};

pub(crate) const COLUMNS: &str = "id, region_id, kind, level, status, started_at, finished_at, source";

pub(crate) fn insert_finished(transaction: &Transaction<'_>, alert: &Alert) -> StoreResult<()> {
    let finished =
        alert.finished_at.ok_or_else(|| StoreError::Conflict(format!("alert {} has not finished", alert.id)))?;
    transaction
        .execute(
            &format!("INSERT OR REPLACE INTO history ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'live')"),
            params![
                alert.id.0,
                alert.region_id.0,
                alert.kind.as_str(),
                alert.level.as_str(),
                alert.status.as_str(),
                millis(alert.started_at),
                millis(finished)
            ],
        )
        .map_err(unavailable)?;
    Ok(())
}

impl HistoryStore for SqliteStore {
    fn history(&self, query: &HistoryQuery) -> StoreResult<Vec<HistoryRecord>> {
        let Some((filter, values)) = filter(query) else { return Ok(Vec::new()) };
        let order = match query.order {
            HistoryOrder::Started => "ORDER BY started_at, id".to_owned(),
            HistoryOrder::Latest(limit) => format!("ORDER BY started_at DESC, id DESC LIMIT {limit}"),
            // Follows the (region_id, started_at) index: no sort.
            HistoryOrder::Region => "ORDER BY region_id, started_at".to_owned(),
        };
        let limit = match (query.order, query.limit) {
            (HistoryOrder::Latest(_), _) | (_, None) => String::new(),
            (_, Some(limit)) => format!("LIMIT {limit}"),
        };
        let connection = self.scanner();
        let mut statement = connection
            .prepare_cached(&format!("SELECT {COLUMNS} FROM history {filter} {order} {limit}"))
            .map_err(unavailable)?;
        let rows = statement.query_map(params_from_iter(values), raw_record).map_err(unavailable)?;
        rows.map(|row| row.map_err(unavailable)?).collect()
    }

    fn history_page_end(&self, query: &HistoryQuery, limit: usize) -> StoreResult<Option<PageEnd>> {
        let Some((filter, values)) = filter(query) else { return Ok(None) };
        if limit == 0 {
            return Ok(None);
        }
        // The page's last record and the one after it, if any.
        let sql =
            format!("SELECT started_at, id FROM history {filter} ORDER BY started_at, id LIMIT 2 OFFSET {}", limit - 1);
        let connection = self.scanner();
        let mut statement = connection.prepare_cached(&sql).map_err(unavailable)?;
        let positions: Vec<(i64, u64)> = statement
            .query_map(params_from_iter(values), |row| Ok((row.get(0)?, row.get(1)?)))
            .map_err(unavailable)?
            .collect::<Result<_, _>>()
            .map_err(unavailable)?;
        drop(statement);
        drop(connection);
        match positions.first() {
            Some(&(started_at, id)) => Ok(Some(PageEnd {
                last: HistoryPosition { started_at: from_millis(started_at)?, id },
                more: positions.len() > 1,
            })),
            // Fewer than `limit` records: the page ends at the last of them, with nothing after.
            None => {
                let last = self.history(&HistoryQuery { order: HistoryOrder::Latest(1), ..query.clone() })?;
                Ok(last.first().map(|record| PageEnd { last: record.position(), more: false }))
            }
        }
    }

    fn import_history(&self, records: &[ImportedRecord]) -> StoreResult<usize> {
        let mut connection = self.writer();
        let transaction = connection.transaction().map_err(unavailable)?;
        let mut next: u64 = transaction
            .query_row("SELECT COALESCE(MAX(id) + 1, ?1) FROM history WHERE id >= ?1", [IMPORTED_ID_BASE], |row| {
                row.get(0)
            })
            .map_err(unavailable)?;
        let mut added = 0;
        {
            let mut insert = transaction
                .prepare_cached(&format!(
                    "INSERT OR IGNORE INTO history ({COLUMNS}, import_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                ))
                .map_err(unavailable)?;
            for ImportedRecord { key, record } in records {
                let inserted = insert
                    .execute(params![
                        next,
                        record.region_id.0,
                        record.kind.as_str(),
                        record.level.as_str(),
                        record.status.as_str(),
                        millis(record.started_at),
                        millis(record.finished_at),
                        record.source,
                        key
                    ])
                    .map_err(unavailable)?;
                if inserted == 1 {
                    added += 1;
                    next += 1;
                }
            }
        }
        transaction.commit().map_err(unavailable)?;
        Ok(added)
    }
}

/// The WHERE clause and its values for `query`; `None` when nothing can match.
fn filter(query: &HistoryQuery) -> Option<(String, Vec<Value>)> {
    let mut conditions = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    if let Some(regions) = &query.regions {
        if regions.is_empty() {
            return None;
        }
        conditions.push(format!("region_id IN ({})", vec!["?"; regions.len()].join(",")));
        values.extend(regions.iter().map(|r| Value::Integer(i64::from(r.0))));
    }
    if let Some(sources) = &query.sources {
        if sources.is_empty() {
            return None;
        }
        conditions.push(format!("source IN ({})", vec!["?"; sources.len()].join(",")));
        values.extend(sources.iter().map(|s| Value::Text(s.clone())));
    }
    // Overlapping the range: started before its end and finished after its start.
    if let Some(to) = query.to {
        conditions.push("started_at < ?".into());
        values.push(Value::Integer(millis(to)));
    }
    if let Some(from) = query.from {
        conditions.push("finished_at > ?".into());
        values.push(Value::Integer(millis(from)));
    }
    if let Some(after) = query.after {
        conditions.push("(started_at, id) > (?, ?)".into());
        values.extend([Value::Integer(millis(after.started_at)), Value::Integer(after.id as i64)]);
    }
    if let Some(through) = query.through {
        conditions.push("(started_at, id) <= (?, ?)".into());
        values.extend([Value::Integer(millis(through.started_at)), Value::Integer(through.id as i64)]);
    }
    let filter = if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
    Some((filter, values))
}

fn millis(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000_000) as i64
}

fn from_millis(value: i64) -> StoreResult<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(value) * 1_000_000).map_err(unavailable)
}

/// A row straight into a record: the enum columns are read as borrowed text (no allocation per
/// row; statistics read tens of thousands of rows).
pub(crate) fn raw_record(row: &Row<'_>) -> rusqlite::Result<StoreResult<HistoryRecord>> {
    let text = |index: usize| -> rusqlite::Result<String> { Ok(row.get_ref(index)?.as_str()?.to_owned()) };
    let kind = row.get_ref(2)?.as_str()?;
    let level = row.get_ref(3)?.as_str()?;
    let status = row.get_ref(4)?.as_str()?;
    let corrupt =
        |what: &str, value: &str| StoreError::Unavailable(format!("unknown {what} {value:?} in history").into());
    let record = (|| {
        Ok(HistoryRecord {
            id: row.get(0).map_err(unavailable)?,
            region_id: RegionId(row.get(1).map_err(unavailable)?),
            kind: AlertKind::parse(kind).ok_or_else(|| corrupt("kind", kind))?,
            level: AlertLevel::parse(level).ok_or_else(|| corrupt("level", level))?,
            status: AlertStatus::parse(status).ok_or_else(|| corrupt("status", status))?,
            started_at: from_millis(row.get(5).map_err(unavailable)?)?,
            finished_at: from_millis(row.get(6).map_err(unavailable)?)?,
            source: text(7).map_err(unavailable)?,
        })
    })();
    Ok(record)
}
