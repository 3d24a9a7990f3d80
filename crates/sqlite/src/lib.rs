//! The embedded store: the event log, alert index, tokens, shelters, history and the followers'
//! cursors in one SQLite file.
//!
//! Durability: WAL journal with `synchronous=FULL`, so a commit is fsynced before `append`
//! returns; start-up refuses to run if SQLite does not confirm that setting. One connection
//! writes (behind a mutex held only for the statement or transaction, never across an await);
//! reads take a connection from one of two small pools, so they never wait behind the writer's
//! fsync, and never behind each other's long scans:
//! - `lookups` serve the short reads on the hot path (token checks, stream catch-up, alerts);
//! - `scans` serve history and statistics, which read thousands of rows: a flood of anonymous
//!   history requests queues for these and leaves the lookups free.
//!
//! The writer's own reads (idempotency records, alerts while deciding) go through the writer's
//! connection (`*_for_writer`), so a keyed write waits for no reader either.
//!
//! Only this crate knows the schema (`migrations/`, applied in order; `PRAGMA user_version`
//! records how many ran).

mod cluster;
mod cursors;
mod history;
mod incidents;
mod pool;
mod push;
mod shelter_times;
mod shelters;
mod tokens;
mod transfer;
mod webhooks;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use pool::{PooledReader, ReaderPool};

use rusqlite::{Connection, OptionalExtension, params};
use tryvoha_core::{Alert, AlertId, Event, Seq};
use tryvoha_store::{Commit, EventLog, IdempotencyRecord, StoreError, StoreResult};

/// Every schema change, in order; a database at version N has run the first N.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/001_events_tokens.sql"),
    include_str!("migrations/002_shelters.sql"),
    include_str!("migrations/003_history.sql"),
    include_str!("migrations/004_history_covering_index.sql"),
    include_str!("migrations/005_cursors.sql"),
    include_str!("migrations/006_webhooks.sql"),
    include_str!("migrations/007_push.sql"),
    include_str!("migrations/008_push_delivered.sql"),
    include_str!("migrations/009_cluster.sql"),
    include_str!("migrations/010_shelter_times.sql"),
    include_str!("migrations/011_incidents.sql"),
];

/// How many connections each reader pool holds. SQLite readers are cheap (a file handle and a
/// page cache each); a few per pool let short reads pass a long one.
pub const READERS_PER_POOL: usize = 3;

pub struct SqliteStore {
    writer: Mutex<Connection>,
    lookups: ReaderPool,
    scans: ReaderPool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> StoreResult<SqliteStore> {
        let writer = Connection::open(path).map_err(unavailable)?;
        configure(&writer)?;
        migrate(&writer)?;
        let lookups = ReaderPool::open(path, READERS_PER_POOL)?;
        let scans = ReaderPool::open(path, READERS_PER_POOL)?;
        Ok(SqliteStore { writer: Mutex::new(writer), lookups, scans })
    }

    fn writer(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a half-applied transaction behind
        // (SQLite rolls back an unfinished one), so a poisoned lock is safe to reuse.
        self.writer.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A connection for a short read on the hot path.
    fn reader(&self) -> PooledReader<'_> {
        self.lookups.get()
    }

    /// A connection for reading many history rows.
    fn scanner(&self) -> PooledReader<'_> {
        self.scans.get()
    }
}

/// The test-only switch that makes the store unsafe: with it set to `1`, SQLite never syncs
/// (`synchronous=OFF`), so that the power-loss harness (bench/powerloss.sh) can show that it
/// catches the loss. Not a setting: nothing documents it for deployments, and the server says
/// at start that its log is not durable.
pub const UNSAFE_NO_SYNC: &str = "TRYVOHA_TEST_UNSAFE_SQLITE_SYNCHRONOUS_OFF";

pub(crate) fn configure(connection: &Connection) -> StoreResult<()> {
    let unsafe_no_sync = std::env::var(UNSAFE_NO_SYNC).is_ok_and(|value| value == "1");
    let (synchronous, wanted) = if unsafe_no_sync { ("OFF", 0) } else { ("FULL", 2) };
    // Reads map the file (no read() per page) and keep up to 64 MiB of pages: statistics scan
    // tens of thousands of history rows.
    connection
        .execute_batch(&format!(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous={synchronous}; PRAGMA busy_timeout=5000; \
             PRAGMA mmap_size=268435456; PRAGMA cache_size=-65536;"
        ))
        .map_err(unavailable)?;
    let synchronous: i64 = connection.query_row("PRAGMA synchronous", [], |row| row.get(0)).map_err(unavailable)?;
    if unsafe_no_sync && synchronous == wanted {
        static SAID: std::sync::Once = std::sync::Once::new();
        SAID.call_once(|| eprintln!("WARNING: {UNSAFE_NO_SYNC}=1: the log is NOT durable (a test-only switch)"));
        return Ok(());
    }
    if synchronous != 2 {
        return Err(StoreError::Unavailable(format!("SQLite refused synchronous=FULL (got {synchronous})").into()));
    }
    Ok(())
}

fn migrate(connection: &Connection) -> StoreResult<()> {
    let version: usize = connection.query_row("PRAGMA user_version", [], |row| row.get(0)).map_err(unavailable)?;
    if version > MIGRATIONS.len() {
        return Err(StoreError::Unavailable(
            format!("the database has schema version {version}, newer than this build knows ({})", MIGRATIONS.len())
                .into(),
        ));
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(version) {
        // Each migration and its version bump commit together: a crash leaves one or the other.
        connection
            .execute_batch(&format!("BEGIN; {migration} PRAGMA user_version = {}; COMMIT;", index + 1))
            .map_err(unavailable)?;
    }
    Ok(())
}

pub(crate) fn unavailable(error: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Unavailable(Box::new(error))
}

fn decode<T: serde::de::DeserializeOwned>(body: &str) -> StoreResult<T> {
    serde_json::from_str(body).map_err(unavailable)
}

fn encode<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(unavailable)
}

impl EventLog for SqliteStore {
    fn append(&self, commit: &Commit) -> StoreResult<()> {
        let mut connection = self.writer();
        let transaction =
            connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(unavailable)?;
        let last = last_seq(&transaction)?;
        for (offset, event) in commit.events.iter().enumerate() {
            let expected = last + 1 + offset as u64;
            if event.seq() != expected {
                return Err(StoreError::Conflict(format!("event seq {} where {expected} was next", event.seq())));
            }
            let alert_id = event.as_alert().map(|event| event.alert.id.0);
            transaction
                .execute(
                    "INSERT INTO events (seq, type, at, alert_id, body) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![event.seq(), event.name(), event.at().unix_timestamp(), alert_id, encode(event)?],
                )
                .map_err(unavailable)?;
            match event {
                Event::Alert(event) => index_alert(&transaction, event)?,
                Event::Incident(event) => incidents::index_incident(&transaction, event)?,
                Event::Shelter(event) => incidents::index_shelter(&transaction, event)?,
            }
        }
        for record in &commit.idempotency {
            transaction
                .execute(
                    "INSERT INTO idempotency (owner, key, fingerprint, alert_id, created) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![record.owner, record.key, record.fingerprint, record.alert_id.0, record.created],
                )
                .map_err(|e| StoreError::Conflict(format!("idempotency key {:?}: {e}", record.key)))?;
        }
        // Dropping the transaction on any early return above rolls it back: nothing half-written.
        transaction.commit().map_err(unavailable)
    }

    fn events_after(&self, after: Seq, limit: usize) -> StoreResult<Vec<Event>> {
        let connection = self.reader();
        let mut statement = connection
            .prepare_cached("SELECT body FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2")
            .map_err(unavailable)?;
        let bodies =
            statement.query_map(params![after, limit as i64], |row| row.get::<_, String>(0)).map_err(unavailable)?;
        bodies.map(|body| decode(&body.map_err(unavailable)?)).collect()
    }

    fn alert_events(&self, id: AlertId) -> StoreResult<Vec<Event>> {
        let connection = self.reader();
        let mut statement = connection
            .prepare_cached("SELECT body FROM events WHERE alert_id = ?1 ORDER BY seq")
            .map_err(unavailable)?;
        let bodies = statement.query_map([id.0], |row| row.get::<_, String>(0)).map_err(unavailable)?;
        bodies.map(|body| decode(&body.map_err(unavailable)?)).collect()
    }

    fn last_seq(&self) -> StoreResult<Seq> {
        last_seq(&self.reader())
    }

    fn alert(&self, id: AlertId) -> StoreResult<Option<Alert>> {
        alert(&self.reader(), id)
    }

    fn active_alerts(&self) -> StoreResult<Vec<Alert>> {
        let connection = self.reader();
        let mut statement =
            connection.prepare_cached("SELECT body FROM alerts WHERE active ORDER BY id").map_err(unavailable)?;
        let bodies = statement.query_map([], |row| row.get::<_, String>(0)).map_err(unavailable)?;
        bodies.map(|body| decode(&body.map_err(unavailable)?)).collect()
    }

    fn highest_alert_id(&self) -> StoreResult<Option<AlertId>> {
        let id: Option<u64> =
            self.reader().query_row("SELECT MAX(id) FROM alerts", [], |row| row.get(0)).map_err(unavailable)?;
        Ok(id.map(AlertId))
    }

    fn idempotency_record(&self, owner: &str, key: &str) -> StoreResult<Option<IdempotencyRecord>> {
        idempotency_record(&self.reader(), owner, key)
    }

    fn idempotency_for_writer(&self, owner: &str, key: &str) -> StoreResult<Option<IdempotencyRecord>> {
        idempotency_record(&self.writer(), owner, key)
    }

    fn alert_for_writer(&self, id: AlertId) -> StoreResult<Option<Alert>> {
        alert(&self.writer(), id)
    }

    fn idempotency_records_with_prefix(&self, owner: &str, prefix: &str) -> StoreResult<Vec<IdempotencyRecord>> {
        let connection = self.reader();
        let mut statement = connection
            .prepare_cached(
                "SELECT key, fingerprint, alert_id, created FROM idempotency \
                 WHERE owner = ?1 AND substr(key, 1, length(?2)) = ?2 ORDER BY key",
            )
            .map_err(unavailable)?;
        let rows =
            statement.query_map(params![owner, prefix], |row| idempotency_row(owner, row)).map_err(unavailable)?;
        rows.map(|row| row.map_err(unavailable)).collect()
    }
}

/// The alert index and the history follow the alert's latest event.
fn index_alert(transaction: &rusqlite::Transaction<'_>, event: &tryvoha_core::AlertEvent) -> StoreResult<()> {
    transaction
        .execute(
            "INSERT INTO alerts (id, region_id, active, seq, body) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (id) DO UPDATE SET active = excluded.active, seq = excluded.seq, body = excluded.body",
            params![
                event.alert.id.0,
                event.alert.region_id.0,
                event.alert.is_active(),
                event.seq,
                encode(&event.alert)?
            ],
        )
        .map_err(unavailable)?;
    if !event.alert.is_active() {
        history::insert_finished(transaction, &event.alert)?;
    }
    Ok(())
}

pub(crate) fn last_seq(connection: &Connection) -> StoreResult<Seq> {
    connection.query_row("SELECT COALESCE(MAX(seq), 0) FROM events", [], |row| row.get(0)).map_err(unavailable)
}

fn alert(connection: &Connection, id: AlertId) -> StoreResult<Option<Alert>> {
    let body: Option<String> = connection
        .query_row("SELECT body FROM alerts WHERE id = ?1", [id.0], |row| row.get(0))
        .optional()
        .map_err(unavailable)?;
    body.map(|b| decode(&b)).transpose()
}

fn idempotency_record(connection: &Connection, owner: &str, key: &str) -> StoreResult<Option<IdempotencyRecord>> {
    connection
        .query_row(
            "SELECT key, fingerprint, alert_id, created FROM idempotency WHERE owner = ?1 AND key = ?2",
            params![owner, key],
            |row| idempotency_row(owner, row),
        )
        .optional()
        .map_err(unavailable)
}

fn idempotency_row(owner: &str, row: &rusqlite::Row<'_>) -> rusqlite::Result<IdempotencyRecord> {
    Ok(IdempotencyRecord {
        owner: owner.to_owned(),
        key: row.get(0)?,
        fingerprint: row.get(1)?,
        alert_id: AlertId(row.get(2)?),
        created: row.get(3)?,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tryvoha_store::{NewToken, TokenStore};

    use super::*;

    fn fresh() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("tryvoha.db")).unwrap();
        (dir, store)
    }

    /// Opens the same fresh database each time it is called; the directory lives as long as it.
    fn reopenable() -> impl FnMut() -> Box<dyn tryvoha_store::Store> {
        let dir = tempfile::tempdir().unwrap();
        move || Box::new(SqliteStore::open(&dir.path().join("tryvoha.db")).unwrap())
    }

    mod contract {
        tryvoha_store::store_contract_tests!(super::fresh().1, reopen: super::reopenable());
    }

    #[test]
    fn a_database_of_an_older_schema_is_migrated_keeping_its_log() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let old = Connection::open(&path).unwrap();
        old.execute_batch(&format!("{} PRAGMA user_version = 1;", MIGRATIONS[0])).unwrap();
        let event = tryvoha_store::contract::declared(1, 1, 14);
        old.execute(
            "INSERT INTO events (seq, type, at, alert_id, body) VALUES (1, 'declared', 0, 1, ?1)",
            [serde_json::to_string(&event).unwrap()],
        )
        .unwrap();
        drop(old);
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.events_after(0, 10).unwrap(), vec![Event::from(event)]);
        assert!(tryvoha_store::ShelterStore::shelters(&store).unwrap().is_empty(), "the new table exists");
        let version: usize = store.reader().query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(version, MIGRATIONS.len());
    }

    /// Runs `read` on another thread and waits for its answer (generously: it must not wait for
    /// a connection that the test holds, which would never come back).
    fn answers_while_held<T: Send + 'static>(store: &Arc<SqliteStore>, read: fn(&SqliteStore) -> T) -> T {
        let (sender, receiver) = std::sync::mpsc::channel();
        let store = store.clone();
        std::thread::spawn(move || sender.send(read(&store)));
        receiver.recv_timeout(std::time::Duration::from_secs(20)).expect("the read waited for a held connection")
    }

    #[test]
    fn long_history_scans_leave_token_checks_and_the_writer_free() {
        let (_dir, store) = fresh();
        let store = Arc::new(store);
        let token = NewToken {
            name: "op".into(),
            role: tryvoha_core::Role::Operator,
            regions: vec![],
            secret_hash: "h1".into(),
            created_at: time::OffsetDateTime::UNIX_EPOCH,
        };
        store.create_token(&token).unwrap();
        let record = IdempotencyRecord {
            owner: "o".into(),
            key: "k".into(),
            fingerprint: "f".into(),
            alert_id: AlertId(1),
            created: true,
        };
        let event = tryvoha_store::contract::declared(1, 1, 14);
        store.append(&Commit { events: vec![event.into()], idempotency: vec![record] }).unwrap();

        // Every scan connection lent out, as to history scans that are still reading.
        let scans: Vec<_> = (0..READERS_PER_POOL).map(|_| store.scanner()).collect();
        let found = answers_while_held(&store, |store| store.token_by_hash("h1").unwrap());
        assert!(found.is_some(), "a token check is answered while every scan is busy");
        assert_eq!(answers_while_held(&store, |store| store.last_seq().unwrap()), 1);

        // And every lookup connection too: the writer reads on its own.
        let lookups: Vec<_> = (0..READERS_PER_POOL).map(|_| store.reader()).collect();
        let earlier = answers_while_held(&store, |store| store.idempotency_for_writer("o", "k").unwrap());
        assert!(earlier.is_some(), "the writer finds its idempotency record");
        let alert = answers_while_held(&store, |store| store.alert_for_writer(AlertId(1)).unwrap());
        assert!(alert.is_some(), "the writer finds the alert");
        drop((scans, lookups));
    }

    #[test]
    fn events_survive_reopening_the_file() {
        let (dir, store) = fresh();
        let event = tryvoha_store::contract::declared(1, 1, 14);
        store.append(&Commit { events: vec![event.clone().into()], idempotency: vec![] }).unwrap();
        drop(store);
        let reopened = SqliteStore::open(&dir.path().join("tryvoha.db")).unwrap();
        assert_eq!(reopened.events_after(0, 10).unwrap(), vec![Event::from(event)]);
    }
}
