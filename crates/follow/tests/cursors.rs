//! The cursor keeper over the real SQLite store: acknowledgements are written in one batch, a
//! crash repeats only what was not flushed, and a cursor moved by someone else is taken as is.

use std::sync::Arc;

use tryvoha_follow::CursorKeeper;
use tryvoha_sqlite::SqliteStore;
use tryvoha_store::contract::declared;
use tryvoha_store::{Commit, CursorStore, EventLog};

fn store_with_events(dir: &std::path::Path, head: u64) -> Arc<SqliteStore> {
    let store = Arc::new(SqliteStore::open(&dir.join("tryvoha.db")).expect("opens"));
    let events = (1..=head).map(|n| declared(n, n, 14).into()).collect();
    store.append(&Commit { events, idempotency: vec![] }).expect("appends");
    store
}

#[tokio::test]
async fn acknowledgements_reach_the_store_at_the_flush_and_only_then() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = store_with_events(dir.path(), 10);
    let keeper = CursorKeeper::new(store.clone());
    assert_eq!(keeper.load("webhook:1").await.expect("loads"), 0);
    keeper.acknowledge("webhook:1", 4);
    keeper.acknowledge("webhook:1", 3);
    keeper.start("mqtt", 0).await.expect("starts");
    keeper.acknowledge("mqtt", 7);
    keeper.acknowledge("never-loaded", 3);
    assert_eq!(store.cursor("webhook:1").expect("reads"), 0, "nothing is written before the flush");
    assert_eq!(keeper.load("webhook:1").await.expect("loads"), 4, "an acknowledgement never moves back");
    assert_eq!(keeper.flush().await.expect("flushes"), 2, "both moved cursors in one write");
    assert_eq!((store.cursor("webhook:1").expect("reads"), store.cursor("mqtt").expect("reads")), (4, 7));
    assert_eq!(store.stored_cursor("never-loaded").expect("reads"), None, "a consumer never loaded writes nothing");
    assert_eq!(keeper.flush().await.expect("flushes"), 0, "nothing moved since");

    // A crash after acknowledging 9 but before the flush: a new keeper starts from 4 again.
    keeper.acknowledge("webhook:1", 9);
    drop(keeper);
    let restarted = CursorKeeper::new(store.clone());
    assert_eq!(restarted.load("webhook:1").await.expect("loads"), 4, "the unflushed tail repeats, none is skipped");
}

#[tokio::test]
async fn a_cursor_moved_elsewhere_is_taken_as_the_store_has_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = store_with_events(dir.path(), 10);
    let keeper = CursorKeeper::new(store.clone());
    keeper.load("webhook:2").await.expect("loads");
    store.set_cursor("webhook:2", 0, 6).expect("moved by another writer");
    keeper.acknowledge("webhook:2", 8);
    assert!(keeper.flush().await.is_err(), "a stale expected value is refused");
    assert_eq!(store.cursor("webhook:2").expect("reads"), 6, "and changes nothing");
    keeper.flush().await.expect("the next flush compares against what the store holds");
    assert_eq!(store.cursor("webhook:2").expect("reads"), 8);
}

#[tokio::test]
async fn a_new_consumer_starts_at_the_head_and_keeps_that_place_across_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = store_with_events(dir.path(), 5);
    let keeper = CursorKeeper::new(store.clone());
    assert_eq!(keeper.start("mqtt", 5).await.expect("starts"), 5, "a new channel does not replay the log");
    assert_eq!(store.stored_cursor("mqtt").expect("reads"), Some(5), "stored before anything is acknowledged");
    drop(keeper);
    let restarted = CursorKeeper::new(store.clone());
    assert_eq!(restarted.start("mqtt", 9).await.expect("starts"), 5, "a known consumer resumes where it stood");
}
