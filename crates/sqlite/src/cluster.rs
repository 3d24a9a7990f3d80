//! Leases and the server's keys in SQLite: one statement each on the writer's connection.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{OptionalExtension, params};
use tryvoha_store::{KeyStore, LeaseStore, StoreResult};

use crate::{SqliteStore, unavailable};

impl LeaseStore for SqliteStore {
    fn take_lease(&self, name: &str, holder: &str, ttl: Duration) -> StoreResult<bool> {
        let now = unix_ms(SystemTime::now());
        let expires = now.saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX));
        // Taken when free, expired, or already this holder's; otherwise the row stays as it is.
        let changed = self
            .writer()
            .execute(
                "INSERT INTO leases (name, holder, expires_ms) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_ms = excluded.expires_ms \
                 WHERE leases.holder = excluded.holder OR leases.expires_ms <= ?4",
                params![name, holder, expires, now],
            )
            .map_err(unavailable)?;
        Ok(changed == 1)
    }

    fn release_lease(&self, name: &str, holder: &str) -> StoreResult<()> {
        self.writer()
            .execute("DELETE FROM leases WHERE name = ?1 AND holder = ?2", params![name, holder])
            .map_err(unavailable)?;
        Ok(())
    }
}

impl KeyStore for SqliteStore {
    fn cluster_key(&self, name: &str) -> StoreResult<Option<Vec<u8>>> {
        self.reader()
            .query_row("SELECT key FROM cluster_keys WHERE name = ?1", [name], |row| row.get(0))
            .optional()
            .map_err(unavailable)
    }

    fn offer_cluster_key(&self, name: &str, key: &[u8]) -> StoreResult<Vec<u8>> {
        let writer = self.writer();
        writer
            .execute(
                "INSERT INTO cluster_keys (name, key) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
                params![name, key],
            )
            .map_err(unavailable)?;
        writer.query_row("SELECT key FROM cluster_keys WHERE name = ?1", [name], |row| row.get(0)).map_err(unavailable)
    }
}

fn unix_ms(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |since| i64::try_from(since.as_millis()).unwrap_or(i64::MAX))
}
