//! The hub may be ahead of the book: it read the log itself (at a start, after falling behind)
//! while the writer had not yet replaced the book, or another node's events are in the shared
//! log before this node applies them. A subscriber that registers then must still get every
//! event, whether it starts fresh or resumes (and whatever page of the log it is given).

// Test code: an unwrap that fails is a failing test, which is what it should be.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use time::OffsetDateTime;
use tryvoha_core::{Actor, AlertBook, AlertKind, Command, Decision, Declaration, Event, RegionId, RegionRegistry, Seq};
use tryvoha_follow::{LogReader, ReadFuture};
use tryvoha_live::{Feed, Filter, Hub, Metrics, Resume, Signer};

/// A log of events 1..=`head`, with a book that has applied none of them.
#[derive(Clone)]
struct AheadOfTheBook(Arc<Log>);

struct Log {
    head: AtomicU64,
    book: Arc<AlertBook>,
}

impl AheadOfTheBook {
    fn new(registry: &Arc<RegionRegistry>, head: Seq) -> AheadOfTheBook {
        AheadOfTheBook(Arc::new(Log { head: head.into(), book: Arc::new(AlertBook::new(registry.clone())) }))
    }

    fn event(&self, seq: Seq) -> Event {
        let declaration = Command::Declare(Declaration::new(RegionId(1), AlertKind::AirRaid));
        match self.0.book.decide(&declaration, &Actor::system(), OffsetDateTime::UNIX_EPOCH) {
            Ok(Decision::Record(draft)) => draft.into_event(seq).into(),
            other => panic!("a declaration on an empty book records an event, not {other:?}"),
        }
    }
}

impl LogReader for AheadOfTheBook {
    fn events_after(&self, after: Seq, limit: usize) -> ReadFuture<'_, Vec<Event>> {
        let head = self.0.head.load(Ordering::SeqCst);
        Box::pin(async move { Ok((after + 1..=head.min(after + limit as Seq)).map(|seq| self.event(seq)).collect()) })
    }

    fn head(&self) -> ReadFuture<'_, Seq> {
        Box::pin(async move { Ok(self.0.head.load(Ordering::SeqCst)) })
    }

    fn book(&self) -> Arc<AlertBook> {
        self.0.book.clone()
    }
}

async fn seqs(feed: &mut Feed, count: usize) -> Vec<Seq> {
    let mut seqs = Vec::new();
    for _ in 0..count {
        let next = tokio::time::timeout(Duration::from_secs(5), feed.next()).await.expect("a frame within 5 s");
        seqs.push(next.unwrap().expect("not cut off").seq);
    }
    seqs
}

#[tokio::test]
async fn a_subscriber_that_registers_while_the_hub_is_ahead_of_the_book_misses_nothing() {
    let registry =
        Arc::new(RegionRegistry::from_csv("id,parent_id,level,katottg,name_uk,name_en\n1,,oblast,,O,O\n").unwrap());
    let log = AheadOfTheBook::new(&registry, 3);
    let (hub, signer) = (Hub::new(registry, Arc::new(Metrics::default()), 64), Arc::new(Signer::from_seed([5; 32])));

    // The first subscriber resumes from 0 and reads 1..=3, the end of the log then; the page is
    // kept for others resuming from 0.
    let mut first = Feed::open(&log, &hub, &signer, Filter::default(), Resume::After(0));
    assert_eq!(seqs(&mut first, 3).await, [1, 2, 3]);

    // Events 4 and 5 are committed, and the hub publishes them before the book has them.
    log.0.head.store(5, Ordering::SeqCst);
    for seq in 4..=5 {
        let event = log.event(seq);
        hub.publish(&hub.frames().frame(&event, &signer), &event);
    }
    assert_eq!(seqs(&mut first, 2).await, [4, 5], "live, from its queue");

    // Registered now, neither the book nor the queue holds 4 and 5: both come from the log.
    let mut resumed = Feed::open(&log, &hub, &signer, Filter::default(), Resume::After(0));
    assert_eq!(seqs(&mut resumed, 5).await, [1, 2, 3, 4, 5], "not ended by the page kept from before 4 and 5");
    let mut fresh = Feed::open(&log, &hub, &signer, Filter::default(), Resume::Fresh);
    assert_eq!(seqs(&mut fresh, 6).await, [0, 1, 2, 3, 4, 5], "the book's snapshot, then what it has not applied");
}
