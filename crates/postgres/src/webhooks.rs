//! Webhook endpoints: one row each, the spec as JSON, and the endpoint's cursor created and
//! removed in the same transaction as its row.

use time::OffsetDateTime;
use tokio_postgres::Row;
use tryvoha_store::{
    Paused, StoreError, StoreResult, WebhookId, WebhookRecord, WebhookSpec, WebhookStore, webhook_consumer,
};

use crate::PostgresStore;
use crate::columns::{bigint, decode, encode, get, get_u64, parse_rfc3339, rfc3339};
use crate::log::last_seq;

const COLUMNS: &str = "id, spec, secret, created_at, paused";

impl WebhookStore for PostgresStore {
    fn create_webhook(
        &self,
        spec: &WebhookSpec,
        secret: &str,
        created_at: OffsetDateTime,
    ) -> StoreResult<WebhookRecord> {
        let (body, created) = (encode(spec)?, rfc3339(created_at)?);
        let id = self.lookups.run(async |connection| {
            connection
                .transaction(async {
                    let row = connection
                        .query_one(
                            "INSERT INTO webhooks (spec, secret, created_at) VALUES ($1, $2, $3) RETURNING id",
                            &[&body, &secret, &created],
                        )
                        .await?;
                    let id: WebhookId = get_u64(&row, 0)?;
                    let head = bigint(last_seq(connection).await?)?;
                    connection
                        .execute(
                            "INSERT INTO cursors (consumer, seq) VALUES ($1, $2) \
                             ON CONFLICT (consumer) DO UPDATE SET seq = excluded.seq",
                            &[&webhook_consumer(id), &head],
                        )
                        .await?;
                    Ok(id)
                })
                .await
        })?;
        Ok(WebhookRecord { id, spec: spec.clone(), secret: secret.to_owned(), created_at, paused: None })
    }

    fn webhooks(&self) -> StoreResult<Vec<WebhookRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM webhooks ORDER BY id");
        let rows = self.lookups.run(async |connection| connection.query(&sql, &[]).await)?;
        rows.iter().map(record).collect()
    }

    fn update_webhook(&self, id: WebhookId, spec: &WebhookSpec, paused: Option<&Paused>) -> StoreResult<WebhookRecord> {
        let (key, body, paused) = (bigint(id)?, encode(spec)?, paused.map(encode).transpose()?);
        let sql = format!("UPDATE webhooks SET spec = $2, paused = $3 WHERE id = $1 RETURNING {COLUMNS}");
        let row = self.lookups.run(async |connection| connection.query_opt(&sql, &[&key, &body, &paused]).await)?;
        record(&row.ok_or(StoreError::NotFound)?)
    }

    fn remove_webhook(&self, id: WebhookId) -> StoreResult<()> {
        let key = bigint(id)?;
        self.lookups.run(async |connection| {
            connection
                .transaction(async {
                    if connection.execute("DELETE FROM webhooks WHERE id = $1", &[&key]).await? == 0 {
                        return Err(StoreError::NotFound);
                    }
                    connection.execute("DELETE FROM cursors WHERE consumer = $1", &[&webhook_consumer(id)]).await?;
                    Ok(())
                })
                .await
        })
    }
}

fn record(row: &Row) -> StoreResult<WebhookRecord> {
    let paused: Option<&str> = get(row, 4)?;
    Ok(WebhookRecord {
        id: get_u64(row, 0)?,
        spec: decode(get(row, 1)?)?,
        secret: get(row, 2)?,
        created_at: parse_rfc3339(get(row, 3)?)?,
        paused: paused.map(decode).transpose()?,
    })
}
