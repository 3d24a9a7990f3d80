//! A transfer into and out of PostgreSQL (`tryvoha migrate`). Each restore is one transaction of
//! array-bound statements (a few round trips for tens of thousands of rows) that adds the rows
//! whose id it lacks and writes over those that differ (`ON CONFLICT … DO UPDATE … WHERE …
//! IS DISTINCT FROM`, so a row already the same is not written or counted), then moves the
//! table's id sequence past the highest id, so that an id the store makes later is never one
//! restored.

use tokio_postgres::types::ToSql;
use tryvoha_core::{Seq, Shelter};
use tryvoha_store::{
    Export, HistoryRow, IdMarks, IdempotencyRecord, PushSubscription, Restore, StoreResult, TokenRecord, WebhookRecord,
};

use crate::PostgresStore;
use crate::columns::{bigint, bigints, encode, get, get_u64, rfc3339};
use crate::connection::Connection;
use crate::history::{ARRAYS, COLUMNS, Columns, record};
use crate::shelters::SEEDED;

/// Whether a stored history row differs from the one being restored over it.
const DIFFERS: &str = "(history.region_id, history.kind, history.level, history.status, history.started_at, \
                       history.finished_at, history.source, history.import_key) IS DISTINCT FROM \
                       (excluded.region_id, excluded.kind, excluded.level, excluded.status, excluded.started_at, \
                       excluded.finished_at, excluded.source, excluded.import_key)";

/// Rows per statement: one bind message stays around a megabyte.
const ROWS_PER_STATEMENT: usize = 5_000;

impl Export for PostgresStore {
    fn idempotency_records(&self) -> StoreResult<Vec<IdempotencyRecord>> {
        let sql = "SELECT owner, key, fingerprint, alert_id, created FROM idempotency ORDER BY owner, key";
        let rows = self.scans.run(async |connection| connection.query(sql, &[]).await)?;
        rows.iter()
            .map(|row| {
                Ok(IdempotencyRecord {
                    owner: get(row, 0)?,
                    key: get(row, 1)?,
                    fingerprint: get(row, 2)?,
                    alert_id: tryvoha_core::AlertId(get_u64(row, 3)?),
                    created: get(row, 4)?,
                })
            })
            .collect()
    }

    fn cursors(&self) -> StoreResult<Vec<(String, Seq)>> {
        let sql = "SELECT consumer, seq FROM cursors ORDER BY consumer";
        let rows = self.lookups.run(async |connection| connection.query(sql, &[]).await)?;
        rows.iter().map(|row| Ok((get(row, 0)?, get_u64(row, 1)?))).collect()
    }

    fn history_rows(&self, after: u64, limit: usize) -> StoreResult<Vec<HistoryRow>> {
        let (after, limit) = (bigint(after)?, i64::try_from(limit).unwrap_or(i64::MAX));
        let sql = format!("SELECT {COLUMNS}, import_key FROM history WHERE id > $1 ORDER BY id LIMIT $2");
        let rows = self.scans.run(async |connection| connection.query(&sql, &[&after, &limit]).await)?;
        rows.iter().map(|row| Ok(HistoryRow { record: record(row)?, import_key: get(row, 8)? })).collect()
    }

    fn id_marks(&self) -> StoreResult<IdMarks> {
        let sql = "SELECT COALESCE(pg_sequence_last_value(pg_get_serial_sequence($1, 'id')::regclass), 0)";
        let mark = |table: &'static str| -> StoreResult<u64> {
            let row = self.lookups.run(async |connection| connection.query_one(sql, &[&table]).await)?;
            get_u64(&row, 0)
        };
        Ok(IdMarks {
            tokens: mark("tokens")?,
            shelters: mark("shelters")?,
            webhooks: mark("webhooks")?,
            push_subscriptions: mark("push_subscriptions")?,
        })
    }

    fn shelters_seeded(&self) -> StoreResult<bool> {
        let sql = "SELECT EXISTS (SELECT 1 FROM meta WHERE key = $1)";
        let row = self.lookups.run(async |connection| connection.query_one(sql, &[&SEEDED]).await)?;
        get(&row, 0)
    }
}

impl Restore for PostgresStore {
    fn restore_id_marks(&self, marks: &IdMarks) -> StoreResult<()> {
        let tables = [
            ("tokens", marks.tokens),
            ("shelters", marks.shelters),
            ("webhooks", marks.webhooks),
            ("push_subscriptions", marks.push_subscriptions),
        ];
        let sql = "SELECT setval(s, GREATEST($2, COALESCE(pg_sequence_last_value(s), 0))) \
                   FROM (SELECT pg_get_serial_sequence($1, 'id')::regclass AS s) AS t";
        for (table, mark) in tables.into_iter().filter(|&(_, mark)| mark > 0) {
            let mark = bigint(mark)?;
            self.lookups.run(async |connection| connection.query(sql, &[&table, &mark]).await)?;
        }
        Ok(())
    }

    fn restore_tokens(&self, tokens: &[TokenRecord]) -> StoreResult<usize> {
        let mut columns = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for token in tokens {
            columns.0.push(bigint(token.id)?);
            columns.1.push(token.name.clone());
            columns.2.push(token.role.as_str().to_owned());
            columns.3.push(encode(&token.regions)?);
            columns.4.push(token.secret_hash.clone());
            columns.5.push(rfc3339(token.created_at)?);
            columns.6.push(token.revoked_at.map(rfc3339).transpose()?);
        }
        let sql = "INSERT INTO tokens (id, name, role, regions, secret_hash, created_at, revoked_at) \
                   OVERRIDING SYSTEM VALUE SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], \
                   $5::text[], $6::text[], $7::text[]) \
                   ON CONFLICT (id) DO UPDATE SET name = excluded.name, role = excluded.role, \
                   regions = excluded.regions, secret_hash = excluded.secret_hash, created_at = excluded.created_at, \
                   revoked_at = excluded.revoked_at \
                   WHERE (tokens.name, tokens.role, tokens.regions, tokens.secret_hash, tokens.created_at, \
                   tokens.revoked_at) IS DISTINCT FROM (excluded.name, excluded.role, excluded.regions, \
                   excluded.secret_hash, excluded.created_at, excluded.revoked_at)";
        let params: [&(dyn ToSql + Sync); 7] =
            [&columns.0, &columns.1, &columns.2, &columns.3, &columns.4, &columns.5, &columns.6];
        self.restore("tokens", sql, &params)
    }

    fn restore_shelters(&self, shelters: &[Shelter], seeded: bool) -> StoreResult<usize> {
        let ids = bigints(shelters.iter().map(|shelter| shelter.id.0))?;
        let bodies = shelters.iter().map(|shelter| encode(&shelter.info)).collect::<StoreResult<Vec<_>>>()?;
        let sql = "INSERT INTO shelters (id, body) OVERRIDING SYSTEM VALUE \
                   SELECT * FROM unnest($1::bigint[], $2::text[]) \
                   ON CONFLICT (id) DO UPDATE SET body = excluded.body WHERE shelters.body IS DISTINCT FROM excluded.body";
        // The seeded mark goes with the shelters: a node started between the two would seed
        // the bundled ones over the copied.
        let mark = format!("INSERT INTO meta (key, value) VALUES ('{SEEDED}', 'yes') ON CONFLICT (key) DO NOTHING");
        self.restore_with("shelters", sql, &[&ids, &bodies], seeded.then_some(mark.as_str()))
    }

    fn restore_webhooks(&self, webhooks: &[WebhookRecord]) -> StoreResult<usize> {
        let mut columns = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for webhook in webhooks {
            columns.0.push(bigint(webhook.id)?);
            columns.1.push(encode(&webhook.spec)?);
            columns.2.push(webhook.secret.clone());
            columns.3.push(rfc3339(webhook.created_at)?);
            columns.4.push(webhook.paused.as_ref().map(encode).transpose()?);
        }
        let sql = "INSERT INTO webhooks (id, spec, secret, created_at, paused) OVERRIDING SYSTEM VALUE \
                   SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[]) \
                   ON CONFLICT (id) DO UPDATE SET spec = excluded.spec, secret = excluded.secret, \
                   created_at = excluded.created_at, paused = excluded.paused \
                   WHERE (webhooks.spec, webhooks.secret, webhooks.created_at, webhooks.paused) \
                   IS DISTINCT FROM (excluded.spec, excluded.secret, excluded.created_at, excluded.paused)";
        self.restore("webhooks", sql, &[&columns.0, &columns.1, &columns.2, &columns.3, &columns.4])
    }

    fn restore_push_subscriptions(&self, subscriptions: &[PushSubscription]) -> StoreResult<usize> {
        let mut added = 0;
        for chunk in subscriptions.chunks(ROWS_PER_STATEMENT) {
            let mut columns = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for subscription in chunk {
                columns.0.push(bigint(subscription.id)?);
                columns.1.push(subscription.endpoint.clone());
                columns.2.push(subscription.p256dh.clone());
                columns.3.push(subscription.auth.clone());
                columns.4.push(encode(&subscription.filter)?);
                columns.5.push(rfc3339(subscription.created_at)?);
                columns.6.push(bigint(subscription.delivered)?);
            }
            let sql = "INSERT INTO push_subscriptions AS s (id, endpoint, p256dh, auth, filter, created_at, delivered_seq) \
                       OVERRIDING SYSTEM VALUE SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], \
                       $4::text[], $5::text[], $6::text[], $7::bigint[]) \
                       ON CONFLICT (id) DO UPDATE SET endpoint = excluded.endpoint, p256dh = excluded.p256dh, \
                       auth = excluded.auth, filter = excluded.filter, created_at = excluded.created_at, \
                       delivered_seq = excluded.delivered_seq \
                       WHERE (s.endpoint, s.p256dh, s.auth, s.filter, s.created_at, s.delivered_seq) IS DISTINCT FROM \
                       (excluded.endpoint, excluded.p256dh, excluded.auth, excluded.filter, excluded.created_at, \
                       excluded.delivered_seq)";
            let params: [&(dyn ToSql + Sync); 7] =
                [&columns.0, &columns.1, &columns.2, &columns.3, &columns.4, &columns.5, &columns.6];
            added += self.restore("push_subscriptions", sql, &params)?;
        }
        Ok(added)
    }

    fn restore_cursors(&self, cursors: &[(String, Seq)]) -> StoreResult<usize> {
        let consumers: Vec<&str> = cursors.iter().map(|(consumer, _)| consumer.as_str()).collect();
        let seqs = bigints(cursors.iter().map(|&(_, seq)| seq))?;
        let sql = "INSERT INTO cursors (consumer, seq) SELECT * FROM unnest($1::text[], $2::bigint[]) \
                   ON CONFLICT (consumer) DO UPDATE SET seq = excluded.seq WHERE cursors.seq <> excluded.seq";
        self.restore_rows(sql, &[&consumers, &seqs])
    }

    fn restore_idempotency(&self, records: &[IdempotencyRecord]) -> StoreResult<usize> {
        let mut added = 0;
        for chunk in records.chunks(ROWS_PER_STATEMENT) {
            let mut columns = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for record in chunk {
                columns.0.push(record.owner.as_str());
                columns.1.push(record.key.as_str());
                columns.2.push(record.fingerprint.as_str());
                columns.3.push(bigint(record.alert_id.0)?);
                columns.4.push(record.created);
            }
            let sql = "INSERT INTO idempotency (owner, key, fingerprint, alert_id, created) \
                       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::boolean[]) \
                       ON CONFLICT (owner, key) DO UPDATE SET fingerprint = excluded.fingerprint, \
                       alert_id = excluded.alert_id, created = excluded.created \
                       WHERE (idempotency.fingerprint, idempotency.alert_id, idempotency.created) \
                       IS DISTINCT FROM (excluded.fingerprint, excluded.alert_id, excluded.created)";
            added += self.restore_rows(sql, &[&columns.0, &columns.1, &columns.2, &columns.3, &columns.4])?;
        }
        Ok(added)
    }

    fn restore_history(&self, rows: &[HistoryRow]) -> StoreResult<usize> {
        let mut written = 0;
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let mut columns = Columns::default();
            for row in chunk {
                columns.push(row.record.id, &row.record)?;
            }
            let keys: Vec<Option<&str>> = chunk.iter().map(|row| row.import_key.as_deref()).collect();
            let mut params = columns.params();
            params.push(&keys);
            // A row of the same id is overwritten only where it differs, so a second run writes none.
            let sql = format!(
                "INSERT INTO history ({COLUMNS}, import_key) SELECT * FROM unnest({ARRAYS}, $9::text[]) \
                 ON CONFLICT (id) DO UPDATE SET region_id = excluded.region_id, kind = excluded.kind, \
                 level = excluded.level, status = excluded.status, started_at = excluded.started_at, \
                 finished_at = excluded.finished_at, source = excluded.source, import_key = excluded.import_key \
                 WHERE {DIFFERS}"
            );
            written += self.restore_rows(&sql, &params)?;
        }
        Ok(written)
    }
}

impl PostgresStore {
    /// Runs the insert `sql` into `table` and moves the table's id sequence past its highest id
    /// (never back), in one transaction; returns how many rows it wrote.
    fn restore(&self, table: &str, sql: &str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<usize> {
        self.restore_with(table, sql, params, None)
    }

    /// [`restore`](PostgresStore::restore), and `also` (a statement without parameters) in the
    /// same transaction.
    fn restore_with(
        &self,
        table: &str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        also: Option<&str>,
    ) -> StoreResult<usize> {
        let follow = format!(
            "SELECT setval(s, GREATEST(m, COALESCE(pg_sequence_last_value(s), 1))) \
             FROM (SELECT pg_get_serial_sequence('{table}', 'id')::regclass AS s, MAX(id) AS m FROM {table}) AS t \
             WHERE m IS NOT NULL"
        );
        self.lookups.run(async |connection| {
            connection
                .transaction(async {
                    let written = connection.execute(sql, params).await?;
                    connection.query(&follow, &[]).await?;
                    if let Some(also) = also {
                        connection.execute(also, &[]).await?;
                    }
                    Ok(count(written))
                })
                .await
        })
    }

    /// Runs the insert `sql` of a table without an id sequence; returns how many rows it wrote.
    fn restore_rows(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<usize> {
        self.lookups.run(async |connection: &Connection| Ok(count(connection.execute(sql, params).await?)))
    }
}

fn count(rows: u64) -> usize {
    usize::try_from(rows).unwrap_or(usize::MAX)
}
