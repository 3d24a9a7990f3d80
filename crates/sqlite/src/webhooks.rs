//! Webhook endpoints in SQLite: one row each, the spec as JSON, and the endpoint's cursor
//! created and removed in the same transaction as its row.

use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tryvoha_store::{
    Paused, StoreError, StoreResult, WebhookId, WebhookRecord, WebhookSpec, WebhookStore, webhook_consumer,
};

use crate::{SqliteStore, decode, encode, last_seq, unavailable};

const COLUMNS: &str = "id, spec, secret, created_at, paused";

impl WebhookStore for SqliteStore {
    fn create_webhook(
        &self,
        spec: &WebhookSpec,
        secret: &str,
        created_at: OffsetDateTime,
    ) -> StoreResult<WebhookRecord> {
        let mut connection = self.writer();
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(unavailable)?;
        let created = created_at.format(&Rfc3339).map_err(unavailable)?;
        transaction
            .execute(
                "INSERT INTO webhooks (spec, secret, created_at) VALUES (?1, ?2, ?3)",
                params![encode(spec)?, secret, created],
            )
            .map_err(unavailable)?;
        let id = transaction.last_insert_rowid() as WebhookId;
        let head = last_seq(&transaction)?;
        transaction
            .execute(
                "INSERT INTO cursors (consumer, seq) VALUES (?1, ?2) \
                 ON CONFLICT (consumer) DO UPDATE SET seq = excluded.seq",
                params![webhook_consumer(id), head],
            )
            .map_err(unavailable)?;
        transaction.commit().map_err(unavailable)?;
        Ok(WebhookRecord { id, spec: spec.clone(), secret: secret.to_owned(), created_at, paused: None })
    }

    fn webhooks(&self) -> StoreResult<Vec<WebhookRecord>> {
        let connection = self.reader();
        let mut statement =
            connection.prepare_cached(&format!("SELECT {COLUMNS} FROM webhooks ORDER BY id")).map_err(unavailable)?;
        let rows = statement.query_map([], raw).map_err(unavailable)?;
        rows.map(|row| row.map_err(unavailable).and_then(RawWebhook::into_record)).collect()
    }

    fn update_webhook(&self, id: WebhookId, spec: &WebhookSpec, paused: Option<&Paused>) -> StoreResult<WebhookRecord> {
        let connection = self.writer();
        let paused = paused.map(encode).transpose()?;
        let changed = connection
            .execute("UPDATE webhooks SET spec = ?2, paused = ?3 WHERE id = ?1", params![id, encode(spec)?, paused])
            .map_err(unavailable)?;
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        one(&connection, id)
    }

    fn remove_webhook(&self, id: WebhookId) -> StoreResult<()> {
        let mut connection = self.writer();
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(unavailable)?;
        let removed = transaction.execute("DELETE FROM webhooks WHERE id = ?1", [id]).map_err(unavailable)?;
        if removed == 0 {
            return Err(StoreError::NotFound);
        }
        transaction.execute("DELETE FROM cursors WHERE consumer = ?1", [webhook_consumer(id)]).map_err(unavailable)?;
        transaction.commit().map_err(unavailable)
    }
}

fn one(connection: &rusqlite::Connection, id: WebhookId) -> StoreResult<WebhookRecord> {
    connection
        .query_row(&format!("SELECT {COLUMNS} FROM webhooks WHERE id = ?1"), [id], raw)
        .optional()
        .map_err(unavailable)?
        .ok_or(StoreError::NotFound)?
        .into_record()
}

struct RawWebhook {
    id: WebhookId,
    spec: String,
    secret: String,
    created_at: String,
    paused: Option<String>,
}

fn raw(row: &Row<'_>) -> rusqlite::Result<RawWebhook> {
    Ok(RawWebhook {
        id: row.get(0)?,
        spec: row.get(1)?,
        secret: row.get(2)?,
        created_at: row.get(3)?,
        paused: row.get(4)?,
    })
}

impl RawWebhook {
    fn into_record(self) -> StoreResult<WebhookRecord> {
        Ok(WebhookRecord {
            id: self.id,
            spec: decode(&self.spec)?,
            secret: self.secret,
            created_at: OffsetDateTime::parse(&self.created_at, &Rfc3339).map_err(unavailable)?,
            paused: self.paused.as_deref().map(decode).transpose()?,
        })
    }
}
