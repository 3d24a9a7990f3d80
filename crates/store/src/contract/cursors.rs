//! The followers' cursors: compare-and-set, per consumer, durable, never past the log's head.

use crate::contract::{commit, declared};
use crate::{CursorMove, Store, StoreError};

/// Writes events 1..=`head` so that cursors have somewhere to go.
fn log_up_to(store: &dyn Store, head: u64) {
    store.append(&commit((1..=head).map(|n| declared(n, n, 14)).collect())).unwrap();
}

pub fn a_cursor_starts_at_zero_and_moves_by_compare_and_set(store: &dyn Store) {
    log_up_to(store, 3);
    assert_eq!(store.cursor("mqtt").unwrap(), 0, "a consumer never seen has delivered nothing");
    assert_eq!(store.stored_cursor("mqtt").unwrap(), None, "and has no stored cursor");
    store.set_cursor("mqtt", 0, 0).unwrap();
    assert_eq!(store.stored_cursor("mqtt").unwrap(), Some(0), "a cursor stored at 0 is told from none");
    store.set_cursor("mqtt", 0, 2).unwrap();
    assert_eq!(store.cursor("mqtt").unwrap(), 2);
    store.set_cursor("mqtt", 2, 3).unwrap();
    assert_eq!(store.cursor("mqtt").unwrap(), 3);
    store.set_cursor("mqtt", 3, 1).unwrap();
    assert_eq!(store.cursor("mqtt").unwrap(), 1, "a rewind repeats deliveries, it skips none");
}

pub fn a_cursor_that_moved_meanwhile_is_not_overwritten(store: &dyn Store) {
    log_up_to(store, 5);
    store.set_cursor("webhooks", 0, 4).unwrap();
    let stale = store.set_cursor("webhooks", 2, 5);
    let Err(StoreError::CursorMoved { consumer, expected, actual }) = stale else {
        panic!("a stale expected value gave {stale:?}, not CursorMoved");
    };
    assert_eq!((consumer.as_str(), expected, actual), ("webhooks", 2, 4), "the conflict says where it stands");
    assert_eq!(store.cursor("webhooks").unwrap(), 4, "a conflict leaves the cursor as it was");
    let unseen = store.set_cursor("never-seen", 3, 4);
    assert!(matches!(unseen, Err(StoreError::CursorMoved { actual: 0, .. })), "{unseen:?}");
    assert_eq!(store.cursor("never-seen").unwrap(), 0, "a refused first move creates nothing");
}

pub fn consumers_keep_cursors_of_their_own(store: &dyn Store) {
    log_up_to(store, 4);
    store.set_cursor("mqtt", 0, 1).unwrap();
    store.set_cursor("webpush", 0, 3).unwrap();
    store.set_cursor("mqtt", 1, 2).unwrap();
    assert_eq!(store.cursor("mqtt").unwrap(), 2);
    assert_eq!(store.cursor("webpush").unwrap(), 3, "moving one consumer leaves the other");
    assert!(store.set_cursor("webpush", 2, 4).is_err(), "each compares against its own value");
    assert_eq!(store.cursor("mqtt").unwrap(), 2);
}

pub fn a_cursor_never_passes_the_log_head(store: &dyn Store) {
    let empty = store.set_cursor("mqtt", 0, 1);
    assert!(matches!(empty, Err(StoreError::CursorBeyondHead { to: 1, head: 0, .. })), "{empty:?}");
    log_up_to(store, 2);
    let beyond = store.set_cursor("mqtt", 0, 3);
    let Err(StoreError::CursorBeyondHead { consumer, to, head }) = beyond else {
        panic!("a cursor past the head gave {beyond:?}, not CursorBeyondHead");
    };
    assert_eq!((consumer.as_str(), to, head), ("mqtt", 3, 2));
    assert_eq!(store.cursor("mqtt").unwrap(), 0, "a refused move writes nothing");
    store.set_cursor("mqtt", 0, 2).unwrap();
    assert_eq!(store.cursor("mqtt").unwrap(), 2, "the head itself is a fine place to stand");
}

/// `open` opens the same storage each time it is called.
pub fn cursors_survive_reopening(open: &mut dyn FnMut() -> Box<dyn Store>) {
    let store = open();
    log_up_to(store.as_ref(), 3);
    store.set_cursor("mqtt", 0, 3).unwrap();
    store.set_cursor("webhooks", 0, 1).unwrap();
    drop(store);
    let reopened = open();
    assert_eq!(reopened.cursor("mqtt").unwrap(), 3);
    assert_eq!(reopened.cursor("webhooks").unwrap(), 1);
    reopened.set_cursor("webhooks", 1, 2).unwrap();
    assert!(reopened.set_cursor("mqtt", 0, 1).is_err(), "the stored value is what compare-and-set compares");
}

fn moved(consumer: &str, expected: u64, to: u64) -> CursorMove {
    CursorMove { consumer: consumer.to_owned(), expected, to }
}

pub fn cursors_move_together_or_not_at_all(store: &dyn Store) {
    log_up_to(store, 6);
    store.set_cursors(&[moved("webhook:1", 0, 2), moved("webhook:2", 0, 5)]).unwrap();
    assert_eq!((store.cursor("webhook:1").unwrap(), store.cursor("webhook:2").unwrap()), (2, 5));
    let stale = store.set_cursors(&[moved("webhook:1", 2, 3), moved("webhook:2", 4, 6)]);
    assert!(matches!(stale, Err(StoreError::CursorMoved { actual: 5, .. })), "{stale:?}");
    assert_eq!(store.cursor("webhook:1").unwrap(), 2, "one refused move refuses the whole batch");
    let beyond = store.set_cursors(&[moved("webhook:1", 2, 3), moved("webhook:2", 5, 7)]);
    assert!(matches!(beyond, Err(StoreError::CursorBeyondHead { to: 7, head: 6, .. })), "{beyond:?}");
    assert_eq!(store.cursor("webhook:1").unwrap(), 2, "a move past the head refuses the whole batch");
    store.set_cursors(&[]).unwrap();
    store.remove_cursor("webhook:2").unwrap();
    assert_eq!(store.stored_cursor("webhook:2").unwrap(), None, "a removed consumer is as if never seen");
    assert_eq!(store.cursor("webhook:1").unwrap(), 2, "removing one consumer leaves the others");
    store.remove_cursor("never-seen").unwrap();
}
