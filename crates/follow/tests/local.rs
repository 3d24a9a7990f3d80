//! The local source against an in-memory log: resuming from any point yields every later event
//! once, in order, even while events are committed during the catch-up; a follower that falls
//! behind the live events is told so, never skipped past them.

// Test code: an unwrap that fails is a failing test, which is what it should be.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use futures_util::StreamExt;
use time::OffsetDateTime;
use tokio::sync::broadcast;
use tryvoha_core::{Actor, AlertBook, AlertKind, Command, Decision, Declaration, Event, RegionId, RegionRegistry, Seq};
use tryvoha_follow::{EventSource, Follow, FollowError, LocalSource, LogReader, ReadFuture};

const REGIONS: &str = "id,parent_id,level,katottg,name_uk,name_en\n1,,oblast,,O,O\n";

/// A log in memory with the broadcast an engine would send on after each commit. Each read may
/// commit more events first (`commits_per_read`), as a busy writer would during a catch-up.
struct MemoryLog {
    book: Arc<AlertBook>,
    events: Mutex<Vec<Event>>,
    committed: broadcast::Sender<Arc<Event>>,
    commits_per_read: usize,
    reads: Mutex<usize>,
}

impl MemoryLog {
    fn new(live_capacity: usize, commits_per_read: usize) -> Arc<MemoryLog> {
        let registry = Arc::new(RegionRegistry::from_csv(REGIONS).unwrap());
        Arc::new(MemoryLog {
            book: Arc::new(AlertBook::new(registry)),
            events: Mutex::new(Vec::new()),
            committed: broadcast::channel(live_capacity).0,
            commits_per_read,
            reads: Mutex::new(0),
        })
    }

    /// Appends an event and then, as the writer does once it is durable, broadcasts it.
    fn commit(&self) -> Seq {
        let event = self.append();
        let _ = self.committed.send(Arc::new(event.clone()));
        event.seq()
    }

    /// Appends without broadcasting: a source that lost the event on its way.
    fn append(&self) -> Event {
        let mut events = self.events.lock().unwrap();
        let declaration = Declaration::new(RegionId(1), AlertKind::AirRaid);
        let Decision::Record(draft) =
            self.book.decide(&Command::Declare(declaration), &Actor::system(), OffsetDateTime::UNIX_EPOCH).unwrap()
        else {
            panic!("a declaration on an empty book records an event")
        };
        let event = Event::from(draft.into_event(events.len() as Seq + 1));
        events.push(event.clone());
        event
    }

    fn source(self: &Arc<MemoryLog>) -> LocalSource {
        let log: Weak<dyn LogReader> = Arc::downgrade(self) as Weak<MemoryLog>;
        LocalSource::new(log, self.committed.downgrade())
    }

    fn reads(&self) -> usize {
        *self.reads.lock().unwrap()
    }
}

impl LogReader for MemoryLog {
    fn events_after(&self, after: Seq, limit: usize) -> ReadFuture<'_, Vec<Event>> {
        *self.reads.lock().unwrap() += 1;
        for _ in 0..self.commits_per_read {
            self.commit();
        }
        let page: Vec<Event> =
            self.events.lock().unwrap().iter().filter(|e| e.seq() > after).take(limit).cloned().collect();
        for _ in 0..self.commits_per_read {
            self.commit();
        }
        Box::pin(async move { Ok(page) })
    }

    fn head(&self) -> ReadFuture<'_, Seq> {
        let head = self.events.lock().unwrap().len() as Seq;
        Box::pin(async move { Ok(head) })
    }

    fn book(&self) -> Arc<AlertBook> {
        self.book.clone()
    }
}

async fn next(follow: &mut Follow) -> Option<Result<Seq, FollowError>> {
    let item = tokio::time::timeout(Duration::from_secs(5), follow.next()).await.expect("an item within 5 s");
    item.map(|result| result.map(|event| event.seq()))
}

async fn take(follow: &mut Follow, count: usize) -> Vec<Seq> {
    let mut seen = Vec::with_capacity(count);
    for _ in 0..count {
        seen.push(next(follow).await.expect("the stream goes on").expect("no error"));
    }
    seen
}

#[tokio::test]
async fn resuming_after_n_yields_every_later_event_once_in_order_while_events_are_committed_during_the_catch_up() {
    let log = MemoryLog::new(4096, 7);
    for _ in 0..1200 {
        log.commit();
    }
    let source = log.source();
    let mut follow = source.follow(100);
    // Three pages of the log; each read commits 7 events before it looks (they are in the
    // page and in the live queue) and 7 after (only in the live queue). Then live.
    let seen = take(&mut follow, 1100 + 42).await;
    assert_eq!(seen, (101..=1242).collect::<Vec<_>>());
    assert_eq!(log.reads(), 3, "two full pages and a short one; the rest came live");
    log.commit();
    assert_eq!(next(&mut follow).await.unwrap().unwrap(), 1243, "then live, without another read");
    assert_eq!(log.reads(), 3);
}

#[tokio::test]
async fn a_follower_that_falls_behind_the_live_events_is_told_so_and_resumes_from_the_log() {
    let log = MemoryLog::new(4, 0);
    let source = log.source();
    let mut follow = source.follow(source.head());
    log.commit();
    assert_eq!(take(&mut follow, 1).await, [1]);
    for _ in 0..10 {
        log.commit();
    }
    match next(&mut follow).await {
        // Seven dropped: 2 to 7, and the live copy of 1, which the first read had found in the log.
        Some(Err(FollowError::Lagged { after, missed })) => assert_eq!((after, missed), (1, 7)),
        other => panic!("expected to be told of the lag, got {other:?}"),
    }
    assert!(next(&mut follow).await.is_none(), "a lagged stream ends: it never skips ahead");
    let mut resumed = source.follow(1);
    assert_eq!(take(&mut resumed, 10).await, (2..=11).collect::<Vec<_>>());
}

#[tokio::test]
async fn live_events_dropped_while_the_log_was_read_are_no_lag() {
    let log = MemoryLog::new(4, 0);
    let source = log.source();
    let mut follow = source.follow(0);
    // Ten commits before the first read: the live queue of 4 drops six, the log has them all.
    for _ in 0..10 {
        log.commit();
    }
    assert_eq!(take(&mut follow, 10).await, (1..=10).collect::<Vec<_>>());
    log.commit();
    assert_eq!(take(&mut follow, 1).await, [11], "still live, no lag reported");
}

#[tokio::test]
async fn an_event_missing_from_the_live_events_is_read_from_the_log() {
    let log = MemoryLog::new(16, 0);
    let source = log.source();
    let mut follow = source.follow(0);
    log.commit();
    assert_eq!(take(&mut follow, 1).await, [1]);
    log.append();
    log.commit();
    assert_eq!(take(&mut follow, 2).await, [2, 3]);
    assert_eq!(log.reads(), 2, "the gap sent it back to the log once");
}

#[tokio::test]
async fn a_follow_ends_when_the_log_and_its_broadcast_are_gone() {
    let log = MemoryLog::new(16, 0);
    let source = log.source();
    let mut follow = source.follow(0);
    log.commit();
    assert_eq!(take(&mut follow, 1).await, [1]);
    drop(log);
    assert!(next(&mut follow).await.is_none());
    assert!(source.follow(1).next().await.is_none(), "a source whose engine is gone yields nothing");
    assert_eq!(source.head(), 0);
}
