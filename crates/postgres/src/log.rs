//! The event log and the alert index beside it.
//!
//! An append is one transaction that first takes the schema's append lock: appenders on every
//! node wait for each other there, so the head each of them reads after taking it is the head
//! its events must follow, and a node that decided against an older head is refused
//! (`Conflict`) with nothing written. Rows go in as arrays, one statement per table, however
//! many events a group commit holds.

use std::collections::HashMap;

use tryvoha_core::{Alert, AlertEvent, AlertId, Event, Seq};
use tryvoha_store::{Commit, EventLog, IdempotencyRecord, StoreError, StoreResult};

use crate::columns::{bigint, corrupt, decode, encode, get, get_u64};
use crate::connection::Connection;
use crate::incidents::IndexRows;
use crate::schema::Lock;
use crate::{PostgresStore, history};

impl EventLog for PostgresStore {
    fn append(&self, commit: &Commit) -> StoreResult<()> {
        let events = EventRows::of(&commit.events)?;
        let alerts = AlertRows::latest_of(&commit.events)?;
        let indexes = IndexRows::of(&commit.events)?;
        let idempotency = IdempotencyRows::of(&commit.idempotency)?;
        let appended = self.writer.run(async |connection| {
            connection
                .transaction(async {
                    Lock::Append.take(connection, &self.schema).await?;
                    let head = last_seq(connection).await?;
                    if let Some(first) = commit.events.first()
                        && first.seq() != head + 1
                    {
                        return Err(StoreError::Conflict(format!(
                            "event seq {} where {} was next",
                            first.seq(),
                            head + 1
                        )));
                    }
                    events.insert(connection).await?;
                    alerts.upsert(connection).await?;
                    indexes.upsert(connection).await?;
                    history::insert_finished(connection, &alert_events(&commit.events)).await?;
                    idempotency.insert(connection).await
                })
                .await
        });
        match appended {
            Err(StoreError::Unavailable(cause)) => self.settle(commit, cause),
            other => other,
        }
    }

    fn events_after(&self, after: Seq, limit: usize) -> StoreResult<Vec<Event>> {
        let (after, limit) = (bigint(after)?, i64::try_from(limit).unwrap_or(i64::MAX));
        let rows = self.lookups.run(async |connection| {
            connection.query("SELECT body FROM events WHERE seq > $1 ORDER BY seq LIMIT $2", &[&after, &limit]).await
        })?;
        rows.iter().map(|row| decode(get(row, 0)?)).collect()
    }

    fn alert_events(&self, id: AlertId) -> StoreResult<Vec<Event>> {
        let id = bigint(id.0)?;
        let rows = self.lookups.run(async |connection| {
            connection.query("SELECT body FROM events WHERE alert_id = $1 ORDER BY seq", &[&id]).await
        })?;
        rows.iter().map(|row| decode(get(row, 0)?)).collect()
    }

    fn last_seq(&self) -> StoreResult<Seq> {
        self.lookups.run(async |connection| last_seq(connection).await)
    }

    fn alert(&self, id: AlertId) -> StoreResult<Option<Alert>> {
        self.lookups.run(async |connection| alert(connection, id).await)
    }

    fn active_alerts(&self) -> StoreResult<Vec<Alert>> {
        let rows = self
            .lookups
            .run(async |connection| connection.query("SELECT body FROM alerts WHERE active ORDER BY id", &[]).await)?;
        rows.iter().map(|row| decode(get(row, 0)?)).collect()
    }

    fn highest_alert_id(&self) -> StoreResult<Option<AlertId>> {
        let row = self.lookups.run(async |connection| connection.query_one("SELECT MAX(id) FROM alerts", &[]).await)?;
        let id: Option<i64> = get(&row, 0)?;
        id.map(|id| u64::try_from(id).map(AlertId).map_err(|_| corrupt(format!("alert id {id} is stored")))).transpose()
    }

    fn idempotency_record(&self, owner: &str, key: &str) -> StoreResult<Option<IdempotencyRecord>> {
        self.lookups.run(async |connection| idempotency_record(connection, owner, key).await)
    }

    fn idempotency_for_writer(&self, owner: &str, key: &str) -> StoreResult<Option<IdempotencyRecord>> {
        self.writer.run(async |connection| idempotency_record(connection, owner, key).await)
    }

    fn alert_for_writer(&self, id: AlertId) -> StoreResult<Option<Alert>> {
        self.writer.run(async |connection| alert(connection, id).await)
    }

    fn idempotency_records_with_prefix(&self, owner: &str, prefix: &str) -> StoreResult<Vec<IdempotencyRecord>> {
        let rows = self.lookups.run(async |connection| {
            connection
                .query(
                    "SELECT key, fingerprint, alert_id, created FROM idempotency \
                     WHERE owner = $1 AND starts_with(key, $2) ORDER BY key",
                    &[&owner, &prefix],
                )
                .await
        })?;
        rows.iter().map(|row| idempotency_row(owner, row)).collect()
    }
}

impl PostgresStore {
    /// An append that failed with the connection (the COMMIT's answer lost) may have landed:
    /// `Unavailable` promises that nothing was written, so the outcome is settled before it is
    /// reported. On another connection, under the append lock (which waits until the failed
    /// transaction has ended one way or the other), the log is read: the commit's last event
    /// there, as it was sent, means it landed, and the append succeeded. When even that read
    /// fails, the error stands, and it may be wrong (the engine's writer then reads the head
    /// before deciding again).
    fn settle(&self, commit: &Commit, cause: Box<dyn std::error::Error + Send + Sync>) -> StoreResult<()> {
        let Some(last) = commit.events.last() else { return Err(StoreError::Unavailable(cause)) };
        let seq = bigint(last.seq())?;
        let stored = self.lookups.run(async |connection| {
            connection
                .transaction(async {
                    Lock::Append.take(connection, &self.schema).await?;
                    let row = connection.query_opt("SELECT body FROM events WHERE seq = $1", &[&seq]).await?;
                    row.map(|row| decode::<Event>(get(&row, 0)?)).transpose()
                })
                .await
        });
        match stored {
            Ok(Some(stored)) if &stored == last => {
                tracing::warn!(seq = last.seq(), "an append's COMMIT lost its answer, and it had landed");
                Ok(())
            }
            _ => Err(StoreError::Unavailable(cause)),
        }
    }
}

pub(crate) async fn last_seq(connection: &Connection) -> StoreResult<Seq> {
    let row = connection.query_one("SELECT COALESCE(MAX(seq), 0) FROM events", &[]).await?;
    get_u64(&row, 0)
}

async fn alert(connection: &Connection, id: AlertId) -> StoreResult<Option<Alert>> {
    let row = connection.query_opt("SELECT body FROM alerts WHERE id = $1", &[&bigint(id.0)?]).await?;
    row.map(|row| decode(get(&row, 0)?)).transpose()
}

async fn idempotency_record(connection: &Connection, owner: &str, key: &str) -> StoreResult<Option<IdempotencyRecord>> {
    let row = connection
        .query_opt(
            "SELECT key, fingerprint, alert_id, created FROM idempotency WHERE owner = $1 AND key = $2",
            &[&owner, &key],
        )
        .await?;
    row.map(|row| idempotency_row(owner, &row)).transpose()
}

fn idempotency_row(owner: &str, row: &tokio_postgres::Row) -> StoreResult<IdempotencyRecord> {
    Ok(IdempotencyRecord {
        owner: owner.to_owned(),
        key: get(row, 0)?,
        fingerprint: get(row, 1)?,
        alert_id: AlertId(get_u64(row, 2)?),
        created: get(row, 3)?,
    })
}

/// The alert events of a commit, in seq order.
fn alert_events(events: &[Event]) -> Vec<&AlertEvent> {
    events.iter().filter_map(Event::as_alert).collect()
}

/// Of `events` (in seq order), the latest for each alert, in seq order.
pub(crate) fn latest_per_alert<'a>(events: impl Iterator<Item = &'a AlertEvent> + Clone) -> Vec<&'a AlertEvent> {
    let last: HashMap<AlertId, Seq> = events.clone().map(|event| (event.alert.id, event.seq)).collect();
    events.filter(|event| last[&event.alert.id] == event.seq).collect()
}

/// A commit's events as columns. Contiguity is checked here, before any connection is taken;
/// where the run starts is checked against the head under the lock.
#[derive(Default)]
struct EventRows {
    seq: Vec<i64>,
    kind: Vec<&'static str>,
    at: Vec<i64>,
    alert_id: Vec<Option<i64>>,
    body: Vec<String>,
}

impl EventRows {
    fn of(events: &[Event]) -> StoreResult<EventRows> {
        let mut rows = EventRows::default();
        for (offset, event) in events.iter().enumerate() {
            let expected = events[0].seq() + offset as u64;
            if event.seq() != expected {
                return Err(StoreError::Conflict(format!("event seq {} where {expected} was next", event.seq())));
            }
            rows.seq.push(bigint(event.seq())?);
            rows.kind.push(event.name());
            rows.at.push(event.at().unix_timestamp());
            rows.alert_id.push(event.as_alert().map(|event| bigint(event.alert.id.0)).transpose()?);
            rows.body.push(encode(event)?);
        }
        Ok(rows)
    }

    async fn insert(&self, connection: &Connection) -> StoreResult<()> {
        if self.seq.is_empty() {
            return Ok(());
        }
        connection
            .execute(
                "INSERT INTO events (seq, type, at, alert_id, body) \
                 SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::text[])",
                &[&self.seq, &self.kind, &self.at, &self.alert_id, &self.body],
            )
            .await?;
        Ok(())
    }
}

/// Each alert of a commit as its latest event there leaves it (one row per alert: an upsert
/// of arrays may touch a row only once).
#[derive(Default)]
struct AlertRows {
    id: Vec<i64>,
    region_id: Vec<i64>,
    active: Vec<bool>,
    seq: Vec<i64>,
    body: Vec<String>,
}

impl AlertRows {
    fn latest_of(events: &[Event]) -> StoreResult<AlertRows> {
        let mut rows = AlertRows::default();
        for event in latest_per_alert(events.iter().filter_map(Event::as_alert)) {
            rows.id.push(bigint(event.alert.id.0)?);
            rows.region_id.push(i64::from(event.alert.region_id.0));
            rows.active.push(event.alert.is_active());
            rows.seq.push(bigint(event.seq)?);
            rows.body.push(encode(&event.alert)?);
        }
        Ok(rows)
    }

    async fn upsert(&self, connection: &Connection) -> StoreResult<()> {
        if self.id.is_empty() {
            return Ok(());
        }
        connection
            .execute(
                "INSERT INTO alerts (id, region_id, active, seq, body) \
                 SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::boolean[], $4::bigint[], $5::text[]) \
                 ON CONFLICT (id) DO UPDATE SET active = excluded.active, seq = excluded.seq, body = excluded.body",
                &[&self.id, &self.region_id, &self.active, &self.seq, &self.body],
            )
            .await?;
        Ok(())
    }
}

#[derive(Default)]
struct IdempotencyRows<'a> {
    owner: Vec<&'a str>,
    key: Vec<&'a str>,
    fingerprint: Vec<&'a str>,
    alert_id: Vec<i64>,
    created: Vec<bool>,
}

impl<'a> IdempotencyRows<'a> {
    fn of(records: &'a [IdempotencyRecord]) -> StoreResult<IdempotencyRows<'a>> {
        let mut rows = IdempotencyRows::default();
        for record in records {
            rows.owner.push(&record.owner);
            rows.key.push(&record.key);
            rows.fingerprint.push(&record.fingerprint);
            rows.alert_id.push(bigint(record.alert_id.0)?);
            rows.created.push(record.created);
        }
        Ok(rows)
    }

    /// A key already stored (or twice in the commit) refuses the commit, as in SQLite.
    async fn insert(&self, connection: &Connection) -> StoreResult<()> {
        if self.key.is_empty() {
            return Ok(());
        }
        connection
            .try_execute(
                "INSERT INTO idempotency (owner, key, fingerprint, alert_id, created) \
                 SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::boolean[])",
                &[&self.owner, &self.key, &self.fingerprint, &self.alert_id, &self.created],
            )
            .await
            .map_err(|error| StoreError::Conflict(format!("idempotency keys {:?}: {error}", self.key)))?;
        Ok(())
    }
}
