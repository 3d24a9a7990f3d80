//! Two engines ("nodes") on one shared log: here two SQLite stores on one database file, which
//! refuses an append that does not follow its head as PostgreSQL does across machines. Each
//! node's book and event stream follow what the other appended; two declarations at once on
//! the two nodes make one alert; an idempotency key used on one node is answered on the other.

// A failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use tryvoha_core::{AlertEvent, Command, Event, RegionId};
use tryvoha_engine::{Engine, SystemClock};
use tryvoha_sqlite::SqliteStore;
use tryvoha_store::Store;

use support::{declare, keyed, registry};

fn node(dir: &tempfile::TempDir) -> (Engine, Arc<dyn Store>) {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("shared.db")).unwrap());
    (Engine::start(store.clone(), registry(), Arc::new(SystemClock), None).unwrap(), store)
}

async fn next_event(events: &mut tokio::sync::broadcast::Receiver<Arc<Event>>) -> Arc<AlertEvent> {
    let event = tokio::time::timeout(Duration::from_secs(5), events.recv()).await.expect("in time").expect("an event");
    Arc::new(event.as_alert().expect("an alert's event").clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_one_node_appends_reaches_the_others_book_and_stream() {
    let dir = tempfile::tempdir().unwrap();
    let ((east, _), (west, _)) = (node(&dir), node(&dir));
    let mut west_events = west.committed();
    let declared = east.execute(declare(2)).await.unwrap();
    let heard = next_event(&mut west_events).await;
    assert_eq!(Some(heard.as_ref()), declared.event.as_ref(), "the other node sends out the same event");
    assert_eq!(west.book().active().count(), 1, "and its book holds the alert");
    assert_eq!(west.book().last_seq(), 1);
    // The other node's next event follows it: its sequence continues the shared log's.
    let second = west.execute(declare(3)).await.unwrap();
    assert_eq!(second.event.map(|e| e.seq), Some(2));
    assert_eq!(next_event(&mut west_events).await.seq, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_declaring_at_once_make_one_alert() {
    for round in 0..10u32 {
        let dir = tempfile::tempdir().unwrap();
        let ((east, store), (west, _)) = (node(&dir), node(&dir));
        let region = 2 + round;
        let (a, b) = tokio::join!(east.execute(declare(region)), west.execute(declare(region)));
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.alert.id, b.alert.id, "round {round}: one alert, whichever node decided second");
        assert_eq!(u32::from(a.created) + u32::from(b.created), 1, "round {round}: created once");
        let log = store.events_after(0, 100).unwrap();
        assert_eq!(log.len(), 1, "round {round}: one declaration in the log: {log:?}");
        assert_eq!(log[0].as_alert().unwrap().alert.region_id, RegionId(region));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_used_on_one_node_is_answered_on_the_other() {
    let dir = tempfile::tempdir().unwrap();
    let ((east, store), (west, _)) = (node(&dir), node(&dir));
    let first = east.execute(keyed(2, "k-1", "f")).await.unwrap();
    let again = west.execute(keyed(2, "k-1", "f")).await.unwrap();
    assert_eq!(again.alert.id, first.alert.id, "the same answer");
    assert!(again.event.is_none(), "and nothing written again");
    assert_eq!(store.last_seq().unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_has_not_heard_of_an_all_clear_yet_does_not_answer_from_its_old_book() {
    for round in 0..5u32 {
        let dir = tempfile::tempdir().unwrap();
        let ((east, store), (west, _)) = (node(&dir), node(&dir));
        let region = 2 + round;
        let first = east.execute(declare(region)).await.unwrap();
        let mut west_events = west.committed();
        // West hears of the alert, then east gives the all-clear and west is asked at once,
        // before its next catch-up: its book still holds the alert.
        while west.book().active().count() == 0 {
            next_event(&mut west_events).await;
        }
        let cancel = tryvoha_engine::Request { command: Command::Cancel { id: first.alert.id }, ..declare(region) };
        east.execute(cancel).await.unwrap();
        let again = west.execute(declare(region)).await.unwrap();
        assert!(again.created && again.alert.id != first.alert.id, "round {round}: a new alert, not the ended one");
        assert_eq!(store.last_seq().unwrap(), 3, "round {round}: declared, cancelled, declared again");
    }
}

/// The bus's path: an event offered by the bus is applied when it is the next one, as it is,
/// and otherwise only what the log itself holds is applied. Here the second node's log is a
/// database of its own that never hears of the first's events, so only the bus can bring them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offered_event_is_applied_only_when_it_is_the_next() {
    let (east_dir, west_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let ((east, _), (west, _)) = (node(&east_dir), node(&west_dir));
    let mut west_events = west.committed();
    let first = east.execute(declare(2)).await.unwrap().event.unwrap();
    let second = east.execute(declare(3)).await.unwrap().event.unwrap();
    let third = east.execute(declare(4)).await.unwrap().event.unwrap();

    // Behind a gap an offer waits for the log, which (here) never has it: it is not applied,
    // however the offers are batched; the bus's own redelivery brings it again.
    west.offer(third.clone().into());
    west.offer(first.clone().into());
    assert_eq!(next_event(&mut west_events).await.as_ref(), &first, "the next event is applied as offered");
    west.offer(second.clone().into());
    assert_eq!(next_event(&mut west_events).await.as_ref(), &second);
    assert_eq!(west.book().last_seq(), 2, "the event offered behind a gap was not applied");
    west.offer(first.clone().into());
    west.offer(third.clone().into());
    assert_eq!(next_event(&mut west_events).await.as_ref(), &third);
    assert_eq!(west.book().active().count(), 3, "the book holds what the bus brought, in order");
    assert!(west_events.try_recv().is_err(), "an event offered twice is sent out once");
}
