//! Web Push subscriptions: one row per endpoint, the filter as JSON.

use tokio_postgres::Row;
use tryvoha_core::Seq;
use tryvoha_store::{NewPushSubscription, PushStore, PushSubscription, PushSubscriptionId, StoreResult};

use crate::PostgresStore;
use crate::columns::{bigints, decode, encode, get, get_u64, parse_rfc3339, rfc3339};

const COLUMNS: &str = "id, endpoint, p256dh, auth, filter, created_at, delivered_seq";
/// Subscriptions per statement when recording deliveries, so that no statement holds many
/// row locks for long during a large fan-out.
const DELIVERED_PER_STATEMENT: usize = 1_000;

impl PushStore for PostgresStore {
    fn upsert_push_subscription(&self, new: &NewPushSubscription) -> StoreResult<(PushSubscription, bool)> {
        let (filter, created) = (encode(&new.filter)?, rfc3339(new.created_at)?);
        let (row, created_now) = self.lookups.run(async |connection| {
            // A renewal keeps its id, creation time and what was delivered.
            let renewed = connection
                .query_opt(
                    &format!(
                        "UPDATE push_subscriptions SET p256dh = $2, auth = $3, filter = $4 WHERE endpoint = $1 \
                         RETURNING {COLUMNS}"
                    ),
                    &[&new.endpoint, &new.p256dh, &new.auth, &filter],
                )
                .await?;
            if let Some(row) = renewed {
                return Ok((row, false));
            }
            // Another caller may have created it since: then this renews theirs, and says so
            // (`xmax` is 0 only on a row this statement inserted).
            let row = connection
                .query_one(
                    &format!(
                        "INSERT INTO push_subscriptions (endpoint, p256dh, auth, filter, created_at) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (endpoint) DO UPDATE \
                         SET p256dh = excluded.p256dh, auth = excluded.auth, filter = excluded.filter \
                         RETURNING {COLUMNS}, (xmax = 0) AS inserted"
                    ),
                    &[&new.endpoint, &new.p256dh, &new.auth, &filter, &created],
                )
                .await?;
            let inserted: bool = get(&row, 7)?;
            Ok((row, inserted))
        })?;
        Ok((subscription(&row)?, created_now))
    }

    fn push_subscriptions(&self) -> StoreResult<Vec<PushSubscription>> {
        let sql = format!("SELECT {COLUMNS} FROM push_subscriptions ORDER BY id");
        let rows = self.lookups.run(async |connection| connection.query(&sql, &[]).await)?;
        rows.iter().map(subscription).collect()
    }

    fn remove_push_subscription(&self, endpoint: &str, auth: &str) -> StoreResult<bool> {
        let removed = self.lookups.run(async |connection| {
            connection
                .execute("DELETE FROM push_subscriptions WHERE endpoint = $1 AND auth = $2", &[&endpoint, &auth])
                .await
        })?;
        Ok(removed > 0)
    }

    fn set_push_delivered(&self, delivered: &[(PushSubscriptionId, Seq)]) -> StoreResult<()> {
        for chunk in delivered.chunks(DELIVERED_PER_STATEMENT) {
            let ids = bigints(chunk.iter().map(|&(id, _)| id))?;
            let seqs = bigints(chunk.iter().map(|&(_, seq)| seq))?;
            // One row per subscription (the newest of the chunk), moved only forward.
            self.lookups.run(async |connection| {
                connection
                    .execute(
                        "UPDATE push_subscriptions AS s SET delivered_seq = d.seq \
                         FROM (SELECT id, MAX(seq) AS seq FROM unnest($1::bigint[], $2::bigint[]) AS u(id, seq) \
                               GROUP BY id) AS d \
                         WHERE s.id = d.id AND s.delivered_seq < d.seq",
                        &[&ids, &seqs],
                    )
                    .await
            })?;
        }
        Ok(())
    }
}

fn subscription(row: &Row) -> StoreResult<PushSubscription> {
    Ok(PushSubscription {
        id: get_u64(row, 0)?,
        endpoint: get(row, 1)?,
        p256dh: get(row, 2)?,
        auth: get(row, 3)?,
        filter: decode(get(row, 4)?)?,
        created_at: parse_rfc3339(get(row, 5)?)?,
        delivered: get_u64(row, 6)?,
    })
}
