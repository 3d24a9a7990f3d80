//! Transfers from the embedded store into PostgreSQL (`tryvoha migrate`), each into a schema of
//! its own.

// A failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use tryvoha_sqlite::SqliteStore;

fn with_stores(check: fn(&dyn tryvoha_store::Export, &dyn tryvoha_store::Restore)) {
    let directory = tempfile::tempdir().unwrap();
    let source = SqliteStore::open(&directory.path().join("tryvoha.db")).unwrap();
    let schema = support::TestSchema::new();
    check(&source, &schema.open());
}

#[test]
#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set TRYVOHA_TEST_POSTGRES_URL")]
fn a_transfer_keeps_every_id_and_writes_nothing_the_second_time() {
    with_stores(tryvoha_store::contract::a_transfer_keeps_every_id_and_writes_nothing_the_second_time);
}

#[test]
#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set TRYVOHA_TEST_POSTGRES_URL")]
fn a_transfer_into_another_log_is_refused_and_writes_nothing() {
    with_stores(tryvoha_store::contract::a_transfer_into_another_log_is_refused_and_writes_nothing);
}
