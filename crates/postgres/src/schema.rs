//! The cluster's schema: its name, the session every connection opens in it, the advisory
//! locks that serialize its writers across nodes, and its migrations.

use tokio_postgres::Config;
use tryvoha_store::{StoreError, StoreResult};

use crate::columns::{get, unavailable};
use crate::connection::Connection;

/// Every schema change, in order, by name; a schema whose `schema_migrations` holds versions
/// 1..=N has run the first N. Only this crate knows the tables.
const MIGRATIONS: &[(&str, &str)] = &[
    ("001_initial", include_str!("migrations/001_initial.sql")),
    ("002_cluster", include_str!("migrations/002_cluster.sql")),
    ("003_shelter_times", include_str!("migrations/003_shelter_times.sql")),
    ("004_incidents", include_str!("migrations/004_incidents.sql")),
];

/// A PostgreSQL schema name that needs no quoting anywhere: `[a-z_][a-z0-9_]{0,62}`, and not
/// `pg_…` (PostgreSQL reserves those). It is the cluster's name, so several clusters share a
/// database, each in its own schema.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SchemaName(String);

#[derive(Debug, thiserror::Error)]
#[error(
    "{given:?} cannot name a PostgreSQL schema: 1 to 63 of a-z, 0-9 and _, not starting with a digit or pg_ (e.g. \
     tryvoha)"
)]
pub struct InvalidSchemaName {
    pub given: String,
}

impl SchemaName {
    pub const DEFAULT: &str = "tryvoha";

    pub fn parse(text: &str) -> Result<SchemaName, InvalidSchemaName> {
        let mut chars = text.chars();
        let first_fits = chars.next().is_some_and(|c| c.is_ascii_lowercase() || c == '_');
        let rest_fits = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !first_fits || !rest_fits || text.len() > 63 || text.starts_with("pg_") {
            return Err(InvalidSchemaName { given: text.to_owned() });
        }
        Ok(SchemaName(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name as an SQL identifier. Quoted although it never needs it but for keywords
    /// (`user`, `select` are fine names too).
    fn quoted(&self) -> String {
        format!("\"{}\"", self.0)
    }
}

impl Default for SchemaName {
    fn default() -> SchemaName {
        SchemaName(SchemaName::DEFAULT.to_owned())
    }
}

impl std::fmt::Display for SchemaName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an advisory lock of the schema is for.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Lock {
    /// Held by each append until its commit: the log's writers, on every node, one at a time.
    Append,
    /// Held while the schema is created or migrated, so two nodes starting together do not.
    Migrate,
    /// Held by a history import while it numbers its records.
    HistoryImport,
}

impl Lock {
    /// The key of this lock for `schema`: FNV-1a (64 bits) of `tryvoha:PURPOSE:SCHEMA`, the
    /// same on every node and build, and another for every schema (docs/postgres.md).
    pub(crate) fn key(self, schema: &SchemaName) -> i64 {
        let purpose = match self {
            Lock::Append => "append",
            Lock::Migrate => "migrate",
            Lock::HistoryImport => "history-import",
        };
        let text = format!("tryvoha:{purpose}:{schema}");
        let hash = text
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3));
        // The same 64 bits as PostgreSQL's signed key.
        hash as i64
    }

    /// Waits for the lock; the transaction's end releases it.
    pub(crate) async fn take(self, connection: &Connection, schema: &SchemaName) -> StoreResult<()> {
        connection.execute("SELECT pg_advisory_xact_lock($1)", &[&self.key(schema)]).await?;
        Ok(())
    }
}

/// Every connection's session, set in its startup packet (no round trip): its tables found in
/// the schema; commits acknowledged only once flushed to disk; a node that stops in the middle of
/// a transaction (holding the append lock) cut off by the server rather than blocking the others;
/// transactions at READ COMMITTED whatever the server's default, so that the head an append
/// reads under its lock is the latest.
/// Both ends probe a silent peer: the server drops a vanished node within about a minute, and a
/// PostgreSQL that stops answering fails this node's calls within about a minute instead of the
/// kernel's hours, so the writer reports the store unavailable rather than hanging.
pub(crate) fn session(mut config: Config, schema: &SchemaName) -> Config {
    let ours = format!(
        "-c search_path={schema} -c synchronous_commit=on -c idle_in_transaction_session_timeout=60s \
         -c default_transaction_isolation=read\\ committed \
         -c tcp_keepalives_idle=30 -c tcp_keepalives_interval=10 -c tcp_keepalives_count=3 \
         -c client_min_messages=warning"
    );
    let options = match config.get_options() {
        Some(given) if !given.is_empty() => format!("{given} {ours}"),
        _ => ours,
    };
    config.options(options);
    if config.get_application_name().is_none() {
        // Shows in pg_stat_activity which cluster a connection serves.
        config.application_name(format!("tryvoha/{schema}"));
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(std::time::Duration::from_secs(10));
    }
    config
        .keepalives(true)
        .keepalives_idle(std::time::Duration::from_secs(30))
        .keepalives_interval(std::time::Duration::from_secs(10))
        .keepalives_retries(3)
        .tcp_user_timeout(std::time::Duration::from_secs(60));
    config
}

/// Creates the schema if it is missing and runs the migrations it has not run, all in one
/// transaction under the migration lock.
pub(crate) async fn migrate(connection: &Connection, schema: &SchemaName) -> StoreResult<()> {
    connection
        .transaction(async {
            Lock::Migrate.take(connection, schema).await?;
            let quoted = schema.quoted();
            // Created only when missing: `CREATE SCHEMA IF NOT EXISTS` asks for the database's
            // CREATE right even when the schema exists, which a server's role need not have
            // once its schema is made.
            let exists = connection
                .query_one("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", &[&schema.as_str()])
                .await?;
            if !get::<bool>(&exists, 0)? {
                connection.batch(&format!("CREATE SCHEMA {quoted}")).await?;
            }
            connection
                .batch(&format!(
                    "CREATE TABLE IF NOT EXISTS {quoted}.schema_migrations (\
                         version    INTEGER PRIMARY KEY, \
                         name       TEXT NOT NULL, \
                         applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
                ))
                .await?;
            let version = applied(connection, schema).await?.unwrap_or(0);
            if version > MIGRATIONS.len() {
                return Err(StoreError::Unavailable(
                    format!(
                        "the schema {schema} has version {version}, newer than this build knows ({})",
                        MIGRATIONS.len()
                    )
                    .into(),
                ));
            }
            for (index, (name, sql)) in MIGRATIONS.iter().enumerate().skip(version) {
                connection.batch(sql).await?;
                let version = i32::try_from(index + 1).map_err(unavailable)?;
                connection
                    .execute(
                        &format!("INSERT INTO {quoted}.schema_migrations (version, name) VALUES ($1, $2)"),
                        &[&version, name],
                    )
                    .await?;
            }
            Ok(())
        })
        .await
}

/// The schema's version: `None` when it holds no tryvoha store (no schema, or no migrations
/// table in it).
pub(crate) async fn applied(connection: &Connection, schema: &SchemaName) -> StoreResult<Option<usize>> {
    let table = format!("{}.schema_migrations", schema.quoted());
    let exists = connection.query_one("SELECT to_regclass($1) IS NOT NULL", &[&table]).await?;
    if !get::<bool>(&exists, 0)? {
        return Ok(None);
    }
    let row = connection.query_one(&format!("SELECT COALESCE(MAX(version), 0) FROM {table}"), &[]).await?;
    let version: i32 = get(&row, 0)?;
    Ok(Some(usize::try_from(version).map_err(unavailable)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_are_plain_lowercase_identifiers() {
        for fine in ["tryvoha", "_x", "kyiv_2", "a", &"a".repeat(63), "user"] {
            assert_eq!(SchemaName::parse(fine).unwrap().as_str(), fine);
        }
        for bad in ["", "Tryvoha", "2kyiv", "kyiv-east", "a b", "x\"y", "pg_temp", &"a".repeat(64), "ключ"] {
            let error = SchemaName::parse(bad).unwrap_err().to_string();
            assert!(error.contains("cannot name a PostgreSQL schema"), "{bad:?}: {error}");
        }
        assert_eq!(SchemaName::default().as_str(), "tryvoha");
    }

    #[test]
    fn each_schema_and_purpose_has_a_lock_of_its_own() {
        let (a, b) = (SchemaName::parse("a").unwrap(), SchemaName::parse("b").unwrap());
        assert_ne!(Lock::Append.key(&a), Lock::Append.key(&b));
        assert_ne!(Lock::Append.key(&a), Lock::Migrate.key(&a));
        // Fixed, so that every node and every build computes the same key (docs/postgres.md).
        assert_eq!(Lock::Append.key(&SchemaName::default()), 6_267_499_596_372_623_039);
    }

    #[test]
    fn the_session_keeps_the_options_a_url_gave() {
        let given: Config = "postgres://u@db/x?options=-c%20statement_timeout%3D5s".parse().unwrap();
        let config = session(given, &SchemaName::default());
        let options = config.get_options().unwrap();
        assert!(options.starts_with("-c statement_timeout=5s "), "{options}");
        assert!(options.contains("-c search_path=tryvoha") && options.contains("synchronous_commit=on"), "{options}");
        assert_eq!(config.get_application_name(), Some("tryvoha/tryvoha"));
    }
}
