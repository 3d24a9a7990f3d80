//! Finished alerts: written with the event that finishes a live alert, or imported.

use std::collections::HashSet;

use tokio_postgres::Row;
use tokio_postgres::types::ToSql;
use tryvoha_core::{AlertEvent, AlertKind, AlertLevel, AlertStatus, RegionId};
use tryvoha_store::{
    HistoryOrder, HistoryPosition, HistoryQuery, HistoryRecord, HistoryStore, IMPORTED_ID_BASE, ImportedRecord,
    PageEnd, StoreError, StoreResult,
};

use crate::PostgresStore;
use crate::columns::{bigint, corrupt, from_millis, get, get_u32, get_u64, millis};
use crate::connection::Connection;
use crate::log::latest_per_alert;
use crate::schema::Lock;

pub(crate) const COLUMNS: &str = "id, region_id, kind, level, status, started_at, finished_at, source";
/// Records per statement of an import: one bind message stays around a megabyte.
const IMPORTED_PER_STATEMENT: usize = 10_000;

/// The alerts that `events` finish enter the history (each as the last event that finished it
/// leaves it; a row already there for the alert is replaced, as SQLite's `INSERT OR REPLACE`).
pub(crate) async fn insert_finished(connection: &Connection, events: &[&AlertEvent]) -> StoreResult<()> {
    let finished = latest_per_alert(events.iter().copied().filter(|event| !event.alert.is_active()));
    if finished.is_empty() {
        return Ok(());
    }
    let mut rows = Columns::default();
    for AlertEvent { alert, .. } in finished {
        let finished_at =
            alert.finished_at.ok_or_else(|| StoreError::Conflict(format!("alert {} has not finished", alert.id)))?;
        let record = HistoryRecord {
            id: alert.id.0,
            region_id: alert.region_id,
            kind: alert.kind,
            level: alert.level,
            status: alert.status,
            started_at: alert.started_at,
            finished_at,
            source: "live".into(),
        };
        rows.push(alert.id.0, &record)?;
    }
    connection
        .execute(
            &format!(
                "INSERT INTO history ({COLUMNS}) SELECT * FROM unnest({ARRAYS}) \
                 ON CONFLICT (id) DO UPDATE SET region_id = excluded.region_id, kind = excluded.kind, \
                 level = excluded.level, status = excluded.status, started_at = excluded.started_at, \
                 finished_at = excluded.finished_at, source = excluded.source, import_key = NULL"
            ),
            &rows.params(),
        )
        .await?;
    Ok(())
}

/// The parameters of [`Columns::params`], in [`COLUMNS`] order.
pub(crate) const ARRAYS: &str =
    "$1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::text[]";

/// History rows as arrays, one per column.
#[derive(Default)]
pub(crate) struct Columns {
    id: Vec<i64>,
    region_id: Vec<i64>,
    kind: Vec<&'static str>,
    level: Vec<&'static str>,
    status: Vec<&'static str>,
    started_at: Vec<i64>,
    finished_at: Vec<i64>,
    source: Vec<String>,
}

impl Columns {
    /// `record` as the row `id`.
    pub(crate) fn push(&mut self, id: u64, record: &HistoryRecord) -> StoreResult<()> {
        self.id.push(bigint(id)?);
        self.region_id.push(i64::from(record.region_id.0));
        self.kind.push(record.kind.as_str());
        self.level.push(record.level.as_str());
        self.status.push(record.status.as_str());
        self.started_at.push(millis(record.started_at));
        self.finished_at.push(millis(record.finished_at));
        self.source.push(record.source.clone());
        Ok(())
    }

    pub(crate) fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        vec![
            &self.id,
            &self.region_id,
            &self.kind,
            &self.level,
            &self.status,
            &self.started_at,
            &self.finished_at,
            &self.source,
        ]
    }
}

impl HistoryStore for PostgresStore {
    fn history(&self, query: &HistoryQuery) -> StoreResult<Vec<HistoryRecord>> {
        let Some(filter) = Filter::of(query)? else { return Ok(Vec::new()) };
        let order = match query.order {
            HistoryOrder::Started => "ORDER BY started_at, id".to_owned(),
            HistoryOrder::Latest(limit) => format!("ORDER BY started_at DESC, id DESC LIMIT {}", clamp(limit)),
            // Follows the (region_id, started_at) index: no sort.
            HistoryOrder::Region => "ORDER BY region_id, started_at".to_owned(),
        };
        let limit = match (query.order, query.limit) {
            (HistoryOrder::Latest(_), _) | (_, None) => String::new(),
            (_, Some(limit)) => format!("LIMIT {}", clamp(limit)),
        };
        let sql = format!("SELECT {COLUMNS} FROM history {} {order} {limit}", filter.clause);
        let rows = self.scans.run(async |connection| connection.query(&sql, &filter.params()).await)?;
        rows.iter().map(record).collect()
    }

    fn history_page_end(&self, query: &HistoryQuery, limit: usize) -> StoreResult<Option<PageEnd>> {
        let Some(filter) = Filter::of(query)? else { return Ok(None) };
        if limit == 0 {
            return Ok(None);
        }
        // The page's last record and the one after it, if any.
        let sql = format!(
            "SELECT started_at, id FROM history {} ORDER BY started_at, id LIMIT 2 OFFSET {}",
            filter.clause,
            clamp(limit - 1)
        );
        let rows = self.scans.run(async |connection| connection.query(&sql, &filter.params()).await)?;
        match rows.first() {
            Some(row) => Ok(Some(PageEnd {
                last: HistoryPosition { started_at: from_millis(get(row, 0)?)?, id: get_u64(row, 1)? },
                more: rows.len() > 1,
            })),
            // Fewer than `limit` records: the page ends at the last of them, with nothing after.
            None => {
                let last = self.history(&HistoryQuery { order: HistoryOrder::Latest(1), ..query.clone() })?;
                Ok(last.first().map(|record| PageEnd { last: record.position(), more: false }))
            }
        }
    }

    fn import_history(&self, records: &[ImportedRecord]) -> StoreResult<usize> {
        self.scans.run(async |connection| {
            connection
                .transaction(async {
                    // Two imports at once would number their records alike.
                    Lock::HistoryImport.take(connection, &self.schema).await?;
                    let new = new_records(connection, records).await?;
                    let next = connection
                        .query_one(
                            "SELECT COALESCE(MAX(id) + 1, $1) FROM history WHERE id >= $1",
                            &[&bigint(IMPORTED_ID_BASE)?],
                        )
                        .await?;
                    let mut next = get_u64(&next, 0)?;
                    for chunk in new.chunks(IMPORTED_PER_STATEMENT) {
                        let mut rows = Columns::default();
                        for ImportedRecord { record, .. } in chunk {
                            rows.push(next, record)?;
                            next += 1;
                        }
                        let keys: Vec<&str> = chunk.iter().map(|imported| imported.key.as_str()).collect();
                        let mut params = rows.params();
                        params.push(&keys);
                        let sql = format!(
                            "INSERT INTO history ({COLUMNS}, import_key) SELECT * FROM unnest({ARRAYS}, $9::text[])"
                        );
                        connection.execute(&sql, &params).await?;
                    }
                    Ok(new.len())
                })
                .await
        })
    }
}

/// The records whose key is neither stored nor earlier in `records`, in their order.
async fn new_records<'a>(
    connection: &Connection,
    records: &'a [ImportedRecord],
) -> StoreResult<Vec<&'a ImportedRecord>> {
    let keys: Vec<&str> = records.iter().map(|r| r.key.as_str()).collect();
    let stored = connection.query("SELECT import_key FROM history WHERE import_key = ANY($1)", &[&keys]).await?;
    let mut seen: HashSet<String> = stored.iter().map(|row| get(row, 0)).collect::<StoreResult<_>>()?;
    Ok(records.iter().filter(|record| seen.insert(record.key.clone())).collect())
}

/// A LIMIT or OFFSET, which PostgreSQL takes as a BIGINT.
fn clamp(count: usize) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

/// The WHERE clause of a query and its values.
#[derive(Default)]
struct Filter {
    conditions: Vec<String>,
    values: Vec<Box<dyn ToSql + Sync>>,
    clause: String,
}

impl Filter {
    /// `None` when nothing can match.
    fn of(query: &HistoryQuery) -> StoreResult<Option<Filter>> {
        let mut filter = Filter::default();
        if let Some(regions) = &query.regions {
            if regions.is_empty() {
                return Ok(None);
            }
            let regions = filter.bind(regions.iter().map(|r| i64::from(r.0)).collect::<Vec<_>>());
            filter.conditions.push(format!("region_id = ANY({regions})"));
        }
        if let Some(sources) = &query.sources {
            if sources.is_empty() {
                return Ok(None);
            }
            let sources = filter.bind(sources.clone());
            filter.conditions.push(format!("source = ANY({sources})"));
        }
        // Overlapping the range: started before its end and finished after its start.
        if let Some(to) = query.to {
            let to = filter.bind(millis(to));
            filter.conditions.push(format!("started_at < {to}"));
        }
        if let Some(from) = query.from {
            let from = filter.bind(millis(from));
            filter.conditions.push(format!("finished_at > {from}"));
        }
        for (position, comparison) in [(query.after, ">"), (query.through, "<=")] {
            if let Some(HistoryPosition { started_at, id }) = position {
                let (started_at, id) = (filter.bind(millis(started_at)), filter.bind(bigint(id)?));
                filter.conditions.push(format!("(started_at, id) {comparison} ({started_at}, {id})"));
            }
        }
        if !filter.conditions.is_empty() {
            filter.clause = format!("WHERE {}", filter.conditions.join(" AND "));
        }
        Ok(Some(filter))
    }

    /// Adds a value; returns its placeholder.
    fn bind(&mut self, value: impl ToSql + Sync + 'static) -> String {
        self.values.push(Box::new(value));
        format!("${}", self.values.len())
    }

    fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.values.iter().map(|value| value.as_ref()).collect()
    }
}

pub(crate) fn record(row: &Row) -> StoreResult<HistoryRecord> {
    let text = |index: usize| -> StoreResult<&str> { get(row, index) };
    let unknown = |what: &str, value: &str| corrupt(format!("unknown {what} {value:?} in history"));
    let (kind, level, status) = (text(2)?, text(3)?, text(4)?);
    Ok(HistoryRecord {
        id: get_u64(row, 0)?,
        region_id: RegionId(get_u32(row, 1)?),
        kind: AlertKind::parse(kind).ok_or_else(|| unknown("kind", kind))?,
        level: AlertLevel::parse(level).ok_or_else(|| unknown("level", level))?,
        status: AlertStatus::parse(status).ok_or_else(|| unknown("status", status))?,
        started_at: from_millis(get(row, 5)?)?,
        finished_at: from_millis(get(row, 6)?)?,
        source: text(7)?.to_owned(),
    })
}
