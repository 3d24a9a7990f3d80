//! One server per cluster name, until cluster mode shares the work between nodes: without it,
//! two servers on one schema would both run the channels (MQTT, webhooks, Web Push) and every
//! endpoint would get each event twice while their cursors overwrite each other. The lock is a
//! session-level advisory lock, held on a connection of its own for as long as the server runs
//! and released when that connection closes (the process ending included).
//!
//! A lost connection (PostgreSQL restarted) loses the lock with it; it is not taken again.
//! The single-server deployment this guards is documented in docs/postgres.md.

use tokio_postgres::Config;
use tryvoha_store::{StoreError, StoreResult};

use crate::columns::{get, unavailable};
use crate::connection::Connection;
use crate::driver;
use crate::schema::{self, Lock, SchemaName};

/// Held while a server (or `token reset-admin`) uses the cluster's schema.
pub struct ServerLock {
    _session: Connection,
}

impl std::fmt::Debug for ServerLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerLock")
    }
}

impl ServerLock {
    /// Takes the lock of `schema` at the database `url` names; `Conflict` when another
    /// process holds it.
    pub fn acquire(url: &str, schema: &SchemaName) -> StoreResult<ServerLock> {
        let config: Config = url.parse().map_err(unavailable)?;
        let session = Connection::open(schema::session(config, schema))?;
        let key = Lock::Server.key(schema);
        let row = driver::wait(session.query_one("SELECT pg_try_advisory_lock($1)", &[&key]))?;
        let held: bool = get(&row, 0)?;
        if !held {
            return Err(StoreError::Conflict(format!(
                "another server runs on the cluster {schema} (it holds the cluster's server lock)"
            )));
        }
        Ok(ServerLock { _session: session })
    }
}
