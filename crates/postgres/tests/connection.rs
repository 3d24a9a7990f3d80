//! The store and its server: a lost connection heals on the next call; a schema this build does
//! not know, or none where one must exist, is refused.

mod support;

use support::TestSchema;
use tryvoha_postgres::{PostgresStore, SchemaName};
use tryvoha_store::contract::declared;
use tryvoha_store::{Commit, EventLog, StoreError};

/// Ends, from the server's side, every connection the store in `schema` holds.
fn cut_connections(schema: &TestSchema) {
    schema.sql(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'tryvoha/{}'",
        schema.name
    ));
}

#[test]
#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set TRYVOHA_TEST_POSTGRES_URL")]
fn a_lost_connection_is_an_unavailable_store_until_the_next_call_reconnects() {
    let schema = TestSchema::new();
    let store = schema.open();
    let first = Commit { events: vec![declared(1, 1, 14).into()], idempotency: vec![] };
    store.append(&first).unwrap();
    assert_eq!(store.last_seq().unwrap(), 1);

    cut_connections(&schema);
    // The call that meets the dead connection may fail (and must say so); the next reconnects.
    if let Err(error) = store.last_seq() {
        assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
    }
    assert_eq!(store.last_seq().unwrap(), 1);

    cut_connections(&schema);
    let second = Commit { events: vec![declared(2, 2, 14).into()], idempotency: vec![] };
    if let Err(error) = store.append(&second) {
        assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
        store.append(&second).unwrap();
    }
    assert_eq!(store.events_after(0, 10).unwrap().len(), 2, "the writer reconnected too");
}

#[test]
#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set TRYVOHA_TEST_POSTGRES_URL")]
fn a_schema_of_a_newer_build_is_refused() {
    let schema = TestSchema::new();
    drop(schema.open());
    schema.sql(&format!("INSERT INTO \"{}\".schema_migrations (version, name) VALUES (999, 'future')", schema.name));
    let error = PostgresStore::open(&schema.url, &schema.name).err().unwrap();
    assert!(format!("{error:?}").contains("newer than this build knows"), "{error:?}");
}

#[test]
#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set TRYVOHA_TEST_POSTGRES_URL")]
fn opening_an_existing_store_where_there_is_none_creates_nothing() {
    let schema = TestSchema::new();
    let missing = PostgresStore::open_existing(&schema.url, &schema.name);
    assert!(matches!(missing, Err(StoreError::NotFound)), "{:?}", missing.err());
    let made = schema.open();
    made.append(&Commit { events: vec![declared(1, 1, 14).into()], idempotency: vec![] }).unwrap();
    drop(made);
    let existing = PostgresStore::open_existing(&schema.url, &schema.name).unwrap();
    assert_eq!(existing.last_seq().unwrap(), 1, "once made, it opens with what it holds");
}

#[test]
#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set TRYVOHA_TEST_POSTGRES_URL")]
fn a_server_that_cannot_be_reached_is_unavailable_not_a_panic() {
    let nowhere = "postgres://postgres@127.0.0.1:1/test?connect_timeout=2";
    let error = PostgresStore::open(nowhere, &SchemaName::default()).err().unwrap();
    assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
}
