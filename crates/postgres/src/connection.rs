//! One connection to PostgreSQL: its client, the statements it prepared, and whether it may be
//! used again. Its methods are the few forms of statement the store needs; each is one round
//! trip once its statement is prepared.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;

use tokio_postgres::error::Severity;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Config, Row, Statement};
use tryvoha_store::{StoreError, StoreResult};

use crate::columns::{get, unavailable};
use crate::driver;

/// The parameters of one statement.
pub(crate) type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// Prepared statements kept per connection; past this many (history queries vary with their
/// filters) the cache starts again rather than grow.
const STATEMENTS_KEPT: usize = 256;

pub(crate) struct Connection {
    client: Client,
    statements: RefCell<HashMap<String, Statement>>,
    /// Set when the session is in a state no other caller should inherit (a transaction whose
    /// end failed): the pool drops it rather than lend it again.
    broken: Cell<bool>,
}

impl Connection {
    /// Connects and checks that commits are durable: `synchronous_commit = on` is asked for in
    /// the startup options (see [`crate::schema::session`]); `fsync` is the server's and must be on, or
    /// an acknowledged event could be lost with the machine.
    pub(crate) fn open(config: Config) -> StoreResult<Connection> {
        let connection =
            Connection { client: driver::connect(config)?, statements: RefCell::default(), broken: Cell::new(false) };
        let settings = driver::wait(
            connection.query_one("SELECT current_setting('synchronous_commit'), current_setting('fsync')", &[]),
        )?;
        let (synchronous_commit, fsync): (String, String) = (get(&settings, 0)?, get(&settings, 1)?);
        if synchronous_commit != "on" || fsync != "on" {
            return Err(StoreError::Unavailable(
                format!(
                    "PostgreSQL does not make commits durable (synchronous_commit = {synchronous_commit}, fsync = \
                     {fsync}; both must be on)"
                )
                .into(),
            ));
        }
        Ok(connection)
    }

    /// Whether the pool may lend it again.
    pub(crate) fn is_usable(&self) -> bool {
        !self.broken.get() && !self.client.is_closed()
    }

    pub(crate) async fn query(&self, sql: &str, params: Params<'_>) -> StoreResult<Vec<Row>> {
        let statement = self.statement(sql).await?;
        self.noted(self.client.query(&statement, params).await).map_err(unavailable)
    }

    pub(crate) async fn query_opt(&self, sql: &str, params: Params<'_>) -> StoreResult<Option<Row>> {
        let statement = self.statement(sql).await?;
        self.noted(self.client.query_opt(&statement, params).await).map_err(unavailable)
    }

    pub(crate) async fn query_one(&self, sql: &str, params: Params<'_>) -> StoreResult<Row> {
        let statement = self.statement(sql).await?;
        self.noted(self.client.query_one(&statement, params).await).map_err(unavailable)
    }

    /// The number of rows the statement changed.
    pub(crate) async fn execute(&self, sql: &str, params: Params<'_>) -> StoreResult<u64> {
        self.try_execute(sql, params).await.map_err(unavailable)
    }

    /// [`execute`](Connection::execute) with the driver's error, for a caller that tells one
    /// refusal from the rest.
    pub(crate) async fn try_execute(&self, sql: &str, params: Params<'_>) -> Result<u64, tokio_postgres::Error> {
        let statement = self.prepare(sql).await?;
        self.noted(self.client.execute(&statement, params).await)
    }

    /// Statements without parameters, several at once (migrations).
    pub(crate) async fn batch(&self, sql: &str) -> StoreResult<()> {
        self.noted(self.client.batch_execute(sql).await).map_err(unavailable)
    }

    /// Runs `body` in a transaction: committed when it returns `Ok`, rolled back when it
    /// returns an error (nothing it wrote stays). A failed commit is reported as unavailable:
    /// it may have landed, which the engine's writer finds out by reading the log's head.
    pub(crate) async fn transaction<T>(&self, body: impl Future<Output = StoreResult<T>>) -> StoreResult<T> {
        self.batch("BEGIN ISOLATION LEVEL READ COMMITTED").await?;
        let result = body.await;
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        if let Err(error) = self.batch(end).await {
            self.broken.set(true);
            return Err(result.err().unwrap_or(error));
        }
        result
    }

    /// Marks the connection broken after any failure but a statement's own error (a broken
    /// constraint, a bad value): a lost socket, a server that is shutting down or that ended the
    /// session (`FATAL`), a protocol error. The client may not know yet that its socket is gone.
    fn noted<T>(&self, result: Result<T, tokio_postgres::Error>) -> Result<T, tokio_postgres::Error> {
        if let Err(error) = &result {
            let statement_error = error.as_db_error().is_some_and(|db| db.parsed_severity() == Some(Severity::Error));
            if !statement_error {
                self.broken.set(true);
            } else {
                // A prepared statement can go stale (another node migrated the schema: "cached
                // plan must not change result type"): prepared again at the next use.
                self.statements.borrow_mut().clear();
            }
        }
        result
    }

    async fn statement(&self, sql: &str) -> StoreResult<Statement> {
        self.prepare(sql).await.map_err(unavailable)
    }

    /// The prepared statement for `sql`, prepared on first use.
    async fn prepare(&self, sql: &str) -> Result<Statement, tokio_postgres::Error> {
        if let Some(statement) = self.statements.borrow().get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.noted(self.client.prepare(sql).await)?;
        let mut statements = self.statements.borrow_mut();
        if statements.len() >= STATEMENTS_KEPT {
            statements.clear();
        }
        statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}
