//! What the tests against the real PostgreSQL share: its URL, and schemas of their own that are
//! dropped when the test ends, passed or failed.

#![allow(dead_code)] // each test binary uses part of it
// Test support: a failed unwrap is a failed test, which is what it should be.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicU32, Ordering};

use tryvoha_postgres::{PostgresStore, SchemaName};
use tryvoha_store::Store;

/// The server the tests use. These tests are compiled to run only when the variable is set or
/// under CI=true (build.rs), so its absence here means CI without its server: a failure.
pub fn postgres_url() -> String {
    match std::env::var("TRYVOHA_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => panic!("CI=true, yet TRYVOHA_TEST_POSTGRES_URL is unset: the PostgreSQL store is not checked"),
    }
}

/// A schema for one test, named apart from every other run's; dropped with everything in it
/// when this value is.
pub struct TestSchema {
    pub url: String,
    pub name: SchemaName,
}

impl TestSchema {
    pub fn new() -> TestSchema {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        let name = format!("tryvoha_test_{}_{}_{nanos}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        TestSchema { url: postgres_url(), name: SchemaName::parse(&name).unwrap() }
    }

    pub fn open(&self) -> PostgresStore {
        PostgresStore::open(&self.url, &self.name).unwrap()
    }

    /// Runs one SQL text on a connection of its own (to look behind the store's back).
    pub fn sql(&self, sql: &str) {
        sql_on(&self.url, sql);
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        sql_on(&self.url, &format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name));
    }
}

fn sql_on(url: &str, sql: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
        let driving = tokio::spawn(connection);
        client.batch_execute(sql).await.unwrap();
        drop(client);
        driving.await.unwrap().unwrap();
    });
}

/// Runs a contract check on a fresh store in a fresh schema.
pub fn with_fresh_store(check: fn(&dyn Store)) {
    let schema = TestSchema::new();
    let store = schema.open();
    check(&store);
}

/// Opens the same fresh schema each time it is called; the schema lives as long as the opener.
pub fn reopenable() -> impl FnMut() -> Box<dyn Store> {
    let schema = TestSchema::new();
    move || Box::new(schema.open())
}
