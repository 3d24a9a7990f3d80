//! The PostgreSQL store: the event log, alert index, tokens, shelters, history, the followers'
//! cursors, webhooks and push subscriptions in one schema per cluster (docs/postgres.md), for
//! servers that share one database.
//!
//! It behaves as tryvoha-sqlite does; the contract suite of tryvoha-store is run against both.
//! Durability: every connection runs with `synchronous_commit = on` (and refuses a server with
//! `fsync` off), so `append` returns only once its commit is on disk. Appends serialize on a
//! transaction-level advisory lock of the schema (`schema::Lock::Append`), so sequence numbers
//! stay gap-free in commit order whichever node appends; an append whose first number is not
//! the head's next is refused with `Conflict`, nothing written.
//!
//! Connections come from three small pools, as SQLite's do: the engine's writer has one of its
//! own (its appends and its reads while deciding wait for no reader), `lookups` serve the short
//! reads and the other writes, `scans` serve history. The traits are blocking; the driver is
//! asynchronous and runs on a runtime of this crate's own (`driver`).
//!
//! Beside the log: leases on singleton work and the cluster's keys (`cluster`), for the nodes
//! of cluster mode (tryvoha-cluster). What it does not do: TLS (the seam is `driver::connect`).

mod cluster;
mod columns;
mod connection;
mod cursors;
mod driver;
mod history;
mod incidents;
mod log;
mod pool;
mod push;
mod schema;
mod shelter_times;
mod shelters;
mod tokens;
mod transfer;
mod webhooks;

pub use schema::{InvalidSchemaName, SchemaName};

use pool::Pool;
use tokio_postgres::Config;
use tryvoha_store::{StoreError, StoreResult};

use crate::columns::unavailable;
use crate::connection::Connection;

/// How many connections each of the `lookups` and `scans` pools opens at most (the writer has
/// one). They are opened when first needed, so an idle server holds one or two.
pub const CONNECTIONS_PER_POOL: usize = 3;

pub struct PostgresStore {
    schema: SchemaName,
    writer: Pool,
    lookups: Pool,
    scans: Pool,
    /// The leases' own connection: a renewal never waits behind reads (a reconnect storm's
    /// catch-up, a full read of the subscriptions), or a busy node would lose its leases.
    leases: Pool,
}

impl PostgresStore {
    /// Opens the store in `schema` of the database `url` names (`postgres://USER@HOST/DB`, or
    /// libpq's `key=value` form), creating the schema and its tables if they are missing and
    /// running the migrations it has not run.
    pub fn open(url: &str, schema: &SchemaName) -> StoreResult<PostgresStore> {
        let store = PostgresStore::connect(url, schema)?;
        store.writer.run(async |connection| schema::migrate(connection, schema).await)?;
        Ok(store)
    }

    /// [`open`](PostgresStore::open) for a store that must exist already: `NotFound` when the
    /// schema holds none (a wrong setting, not a new cluster). It is migrated if it is older.
    pub fn open_existing(url: &str, schema: &SchemaName) -> StoreResult<PostgresStore> {
        let store = PostgresStore::connect(url, schema)?;
        if store.writer.run(async |connection| schema::applied(connection, schema).await)?.is_none() {
            return Err(StoreError::NotFound);
        }
        store.writer.run(async |connection| schema::migrate(connection, schema).await)?;
        Ok(store)
    }

    /// The schema this store is kept in.
    pub fn schema(&self) -> &SchemaName {
        &self.schema
    }

    fn connect(url: &str, schema: &SchemaName) -> StoreResult<PostgresStore> {
        let config: Config = url.parse().map_err(unavailable)?;
        let config = schema::session(config, schema);
        let store = PostgresStore {
            schema: schema.clone(),
            writer: Pool::new(config.clone(), 1),
            lookups: Pool::new(config.clone(), CONNECTIONS_PER_POOL),
            leases: Pool::new(config.clone(), 1),
            scans: Pool::new(config, CONNECTIONS_PER_POOL),
        };
        // Connects now, so that a wrong URL or a server that is not durable is an error at
        // start-up rather than at the first alert.
        store.writer.run(async |_: &Connection| Ok(()))?;
        Ok(store)
    }
}
