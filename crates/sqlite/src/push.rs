//! Web Push subscriptions in SQLite: one row per endpoint, the filter as JSON.

use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tryvoha_core::Seq;
use tryvoha_store::{NewPushSubscription, PushStore, PushSubscription, PushSubscriptionId, StoreResult};

use crate::{SqliteStore, decode, encode, unavailable};

const COLUMNS: &str = "id, endpoint, p256dh, auth, filter, created_at, delivered_seq";
/// Rows per transaction when recording deliveries, so that the writer (the log's appends too)
/// is never held for long by a large fan-out.
const DELIVERED_PER_TRANSACTION: usize = 1_000;

impl PushStore for SqliteStore {
    fn upsert_push_subscription(&self, new: &NewPushSubscription) -> StoreResult<(PushSubscription, bool)> {
        let mut connection = self.writer();
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(unavailable)?;
        let existing: Option<PushSubscriptionId> = transaction
            .query_row("SELECT id FROM push_subscriptions WHERE endpoint = ?1", [&new.endpoint], |row| row.get(0))
            .optional()
            .map_err(unavailable)?;
        let filter = encode(&new.filter)?;
        let created = new.created_at.format(&Rfc3339).map_err(unavailable)?;
        let id = match existing {
            Some(id) => {
                transaction
                    .execute(
                        "UPDATE push_subscriptions SET p256dh = ?2, auth = ?3, filter = ?4 WHERE id = ?1",
                        params![id, new.p256dh, new.auth, filter],
                    )
                    .map_err(unavailable)?;
                id
            }
            None => {
                transaction
                    .execute(
                        "INSERT INTO push_subscriptions (endpoint, p256dh, auth, filter, created_at) \
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![new.endpoint, new.p256dh, new.auth, filter, created],
                    )
                    .map_err(unavailable)?;
                transaction.last_insert_rowid() as PushSubscriptionId
            }
        };
        let stored = transaction
            .query_row(&format!("SELECT {COLUMNS} FROM push_subscriptions WHERE id = ?1"), [id], raw)
            .map_err(unavailable)?;
        transaction.commit().map_err(unavailable)?;
        Ok((stored.into_subscription()?, existing.is_none()))
    }

    fn push_subscriptions(&self) -> StoreResult<Vec<PushSubscription>> {
        let connection = self.reader();
        let mut statement = connection
            .prepare_cached(&format!("SELECT {COLUMNS} FROM push_subscriptions ORDER BY id"))
            .map_err(unavailable)?;
        let rows = statement.query_map([], raw).map_err(unavailable)?;
        rows.map(|row| row.map_err(unavailable).and_then(RawSubscription::into_subscription)).collect()
    }

    fn remove_push_subscription(&self, endpoint: &str, auth: &str) -> StoreResult<bool> {
        let connection = self.writer();
        let removed = connection
            .execute("DELETE FROM push_subscriptions WHERE endpoint = ?1 AND auth = ?2", params![endpoint, auth])
            .map_err(unavailable)?;
        Ok(removed > 0)
    }

    fn set_push_delivered(&self, delivered: &[(PushSubscriptionId, Seq)]) -> StoreResult<()> {
        for chunk in delivered.chunks(DELIVERED_PER_TRANSACTION) {
            let mut connection = self.writer();
            let transaction =
                connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(unavailable)?;
            {
                let mut update = transaction
                    .prepare_cached(
                        "UPDATE push_subscriptions SET delivered_seq = ?2 WHERE id = ?1 AND delivered_seq < ?2",
                    )
                    .map_err(unavailable)?;
                for (id, seq) in chunk {
                    update.execute(params![id, seq]).map_err(unavailable)?;
                }
            }
            transaction.commit().map_err(unavailable)?;
        }
        Ok(())
    }
}

struct RawSubscription {
    id: PushSubscriptionId,
    endpoint: String,
    p256dh: String,
    auth: String,
    filter: String,
    created_at: String,
    delivered: Seq,
}

fn raw(row: &Row<'_>) -> rusqlite::Result<RawSubscription> {
    Ok(RawSubscription {
        id: row.get(0)?,
        endpoint: row.get(1)?,
        p256dh: row.get(2)?,
        auth: row.get(3)?,
        filter: row.get(4)?,
        created_at: row.get(5)?,
        delivered: row.get(6)?,
    })
}

impl RawSubscription {
    fn into_subscription(self) -> StoreResult<PushSubscription> {
        Ok(PushSubscription {
            id: self.id,
            endpoint: self.endpoint,
            p256dh: self.p256dh,
            auth: self.auth,
            filter: decode(&self.filter)?,
            created_at: OffsetDateTime::parse(&self.created_at, &Rfc3339).map_err(unavailable)?,
            delivered: self.delivered,
        })
    }
}
