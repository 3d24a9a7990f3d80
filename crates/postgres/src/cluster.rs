//! Leases and the cluster's keys. A lease is taken or renewed in one statement that compares
//! with the database's clock (`clock_timestamp()`), so the nodes' own clocks never decide who holds it.

use std::time::Duration;

use tryvoha_store::{KeyStore, LeaseStore, StoreResult};

use crate::PostgresStore;
use crate::columns::get;

impl LeaseStore for PostgresStore {
    fn take_lease(&self, name: &str, holder: &str, ttl: Duration) -> StoreResult<bool> {
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        self.leases.run(async |connection| {
            let taken = connection
                .execute(
                    "INSERT INTO leases (name, holder, expires_at) \
                     VALUES ($1, $2, clock_timestamp() + make_interval(secs => $3::bigint / 1000.0)) \
                     ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at \
                     WHERE leases.holder = EXCLUDED.holder OR leases.expires_at <= clock_timestamp()",
                    &[&name, &holder, &ttl_ms],
                )
                .await?;
            Ok(taken == 1)
        })
    }

    fn release_lease(&self, name: &str, holder: &str) -> StoreResult<()> {
        self.leases.run(async |connection| {
            connection.execute("DELETE FROM leases WHERE name = $1 AND holder = $2", &[&name, &holder]).await?;
            Ok(())
        })
    }
}

impl KeyStore for PostgresStore {
    fn cluster_key(&self, name: &str) -> StoreResult<Option<Vec<u8>>> {
        self.lookups.run(async |connection| {
            let row = connection.query_opt("SELECT key FROM cluster_keys WHERE name = $1", &[&name]).await?;
            row.map(|row| get(&row, 0)).transpose()
        })
    }

    fn offer_cluster_key(&self, name: &str, key: &[u8]) -> StoreResult<Vec<u8>> {
        self.lookups.run(async |connection| {
            connection
                .execute(
                    "INSERT INTO cluster_keys (name, key) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                    &[&name, &key],
                )
                .await?;
            let row = connection.query_one("SELECT key FROM cluster_keys WHERE name = $1", &[&name]).await?;
            get(&row, 0)
        })
    }
}
