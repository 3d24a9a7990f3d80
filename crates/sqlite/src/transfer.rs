//! What a transfer (`tryvoha migrate`) reads of the embedded database beside the other traits.
//! Each read is one statement on a reader, so it sees one state of the database.

use tryvoha_core::{AlertId, Seq};
use tryvoha_store::{Export, HistoryRow, IdMarks, IdempotencyRecord, StoreResult};

use crate::history::{COLUMNS, raw_record};
use crate::shelters::SEEDED;
use crate::{SqliteStore, unavailable};

impl Export for SqliteStore {
    fn idempotency_records(&self) -> StoreResult<Vec<IdempotencyRecord>> {
        let connection = self.reader();
        let mut statement = connection
            .prepare("SELECT owner, key, fingerprint, alert_id, created FROM idempotency ORDER BY owner, key")
            .map_err(unavailable)?;
        let rows = statement
            .query_map([], |row| {
                Ok(IdempotencyRecord {
                    owner: row.get(0)?,
                    key: row.get(1)?,
                    fingerprint: row.get(2)?,
                    alert_id: AlertId(row.get(3)?),
                    created: row.get(4)?,
                })
            })
            .map_err(unavailable)?;
        rows.map(|row| row.map_err(unavailable)).collect()
    }

    fn cursors(&self) -> StoreResult<Vec<(String, Seq)>> {
        let connection = self.reader();
        let mut statement =
            connection.prepare("SELECT consumer, seq FROM cursors ORDER BY consumer").map_err(unavailable)?;
        let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?))).map_err(unavailable)?;
        rows.map(|row| row.map_err(unavailable)).collect()
    }

    fn history_rows(&self, after: u64, limit: usize) -> StoreResult<Vec<HistoryRow>> {
        let connection = self.reader();
        let mut statement = connection
            .prepare(&format!("SELECT {COLUMNS}, import_key FROM history WHERE id > ?1 ORDER BY id LIMIT ?2"))
            .map_err(unavailable)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = statement
            .query_map(rusqlite::params![after, limit], |row| {
                let record = raw_record(row)?;
                let import_key: Option<String> = row.get(8)?;
                Ok(record.map(|record| HistoryRow { record, import_key }))
            })
            .map_err(unavailable)?;
        rows.map(|row| row.map_err(unavailable)?).collect()
    }

    fn id_marks(&self) -> StoreResult<IdMarks> {
        // AUTOINCREMENT keeps each table's highest id ever given in `sqlite_sequence`.
        let connection = self.reader();
        let mut statement = connection.prepare("SELECT name, seq FROM sqlite_sequence").map_err(unavailable)?;
        let rows = statement
            .query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, u64>(1)?)))
            .map_err(unavailable)?;
        let mut marks = IdMarks::default();
        for row in rows {
            let (table, seq) = row.map_err(unavailable)?;
            match table.as_str() {
                "tokens" => marks.tokens = seq,
                "shelters" => marks.shelters = seq,
                "webhooks" => marks.webhooks = seq,
                "push_subscriptions" => marks.push_subscriptions = seq,
                _ => {}
            }
        }
        Ok(marks)
    }

    fn shelters_seeded(&self) -> StoreResult<bool> {
        let connection = self.reader();
        connection
            .query_row("SELECT EXISTS (SELECT 1 FROM meta WHERE key = ?1)", [SEEDED], |row| row.get(0))
            .map_err(unavailable)
    }
}
