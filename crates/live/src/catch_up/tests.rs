use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::Semaphore;
use tryvoha_core::{Actor, AlertBook, AlertKind, Command, Decision, Declaration, RegionId, RegionRegistry};
use tryvoha_follow::ReadFuture;

use super::*;

/// A log of `head` events that counts its reads, can hold them until released and can fail.
struct CountingLog {
    head: AtomicUsize,
    reads: AtomicUsize,
    failing: AtomicBool,
    gate: Semaphore,
    book: Arc<AlertBook>,
}

impl CountingLog {
    fn new(head: usize, open: bool) -> Arc<CountingLog> {
        let registry = RegionRegistry::from_csv("id,parent_id,level,katottg,name_uk,name_en\n1,,oblast,,O,O\n");
        let book = Arc::new(AlertBook::new(Arc::new(registry.expect("a valid registry"))));
        let gate = Semaphore::new(if open { Semaphore::MAX_PERMITS } else { 0 });
        Arc::new(CountingLog { head: head.into(), reads: 0.into(), failing: false.into(), gate, book })
    }

    fn event(&self, seq: Seq) -> Event {
        let declaration = Command::Declare(Declaration::new(RegionId(1), AlertKind::AirRaid));
        match self.book.decide(&declaration, &Actor::system(), OffsetDateTime::UNIX_EPOCH) {
            Ok(Decision::Record(draft)) => draft.into_event(seq).into(),
            other => panic!("a declaration on an empty book records an event, not {other:?}"),
        }
    }

    fn reads(&self) -> usize {
        self.reads.load(Ordering::SeqCst)
    }
}

impl LogReader for CountingLog {
    fn events_after(&self, after: Seq, limit: usize) -> ReadFuture<'_, Vec<Event>> {
        Box::pin(async move {
            let _permit = self.gate.acquire().await.map_err(|_| ReadError::Closed)?;
            self.reads.fetch_add(1, Ordering::SeqCst);
            if self.failing.load(Ordering::SeqCst) {
                return Err(ReadError::Unavailable("the disk is gone".into()));
            }
            let head = self.head.load(Ordering::SeqCst) as Seq;
            Ok((after + 1..=head.min(after + limit as Seq)).map(|seq| self.event(seq)).collect())
        })
    }

    fn head(&self) -> ReadFuture<'_, Seq> {
        Box::pin(async move { Ok(self.head.load(Ordering::SeqCst) as Seq) })
    }

    fn book(&self) -> Arc<AlertBook> {
        self.book.clone()
    }
}

fn seqs(page: &Page) -> Vec<Seq> {
    page.events.iter().map(Event::seq).collect()
}

#[tokio::test]
async fn subscribers_resuming_from_the_same_point_at_once_share_one_read() {
    let log = CountingLog::new(25, false);
    let reader: Arc<dyn LogReader> = log.clone();
    let reads = Arc::new(CatchUpReads::new(Arc::default()));
    let waiting: Vec<_> = (0..100)
        .map(|_| {
            let (reads, reader) = (reads.clone(), reader.clone());
            tokio::spawn(async move { reads.page(&reader, 5, 500, reads.queue_start(25)).await })
        })
        .collect();
    tokio::task::yield_now().await;
    log.gate.add_permits(Semaphore::MAX_PERMITS);
    for waiting in waiting {
        let page = waiting.await.expect("no panic").expect("the log answers");
        assert_eq!(seqs(&page), (6..=25).collect::<Vec<_>>());
    }
    assert_eq!(log.reads(), 1, "one read for a hundred subscribers");
    assert_eq!(reads.metrics.catch_up_reads(), 1, "and counted once");
}

#[tokio::test]
async fn a_page_read_earlier_serves_while_it_reaches_the_subscribers_queue() {
    let log = CountingLog::new(25, true);
    let reader: Arc<dyn LogReader> = log.clone();
    let reads = CatchUpReads::new(Arc::default());
    let first = reads.page(&reader, 5, 500, reads.queue_start(25)).await.expect("the log answers");
    assert!(first.ends_catch_up_for(reads.queue_start(25)));
    assert!(
        !first.ends_catch_up_for(reads.queue_start(27)),
        "a subscriber whose queue starts after 27 must read on from 25"
    );
    let again = reads.page(&reader, 5, 500, reads.queue_start(25)).await.expect("the log answers");
    assert!(Arc::ptr_eq(&first, &again), "the same page, not read again");
    assert_eq!(log.reads(), 1);

    // Two more events are committed; a subscriber whose queue starts after 27 cannot end its
    // catch-up at 25 (26 and 27 are in neither), so the page is read again for it.
    log.head.store(27, Ordering::SeqCst);
    let newer = reads.page(&reader, 5, 500, reads.queue_start(27)).await.expect("the log answers");
    assert_eq!(seqs(&newer), (6..=27).collect::<Vec<_>>());
    assert_eq!(log.reads(), 2);

    // A read that began after the subscriber registered ends its catch-up even short of where
    // its queue starts: the log had no more then, and every later event reaches its queue.
    let start = reads.queue_start(30);
    let fresh = reads.page(&reader, 5, 500, start).await.expect("the log answers");
    assert_eq!(log.reads(), 3, "the page from before it registered did not reach 30");
    assert!(fresh.ends_catch_up_for(start), "a page read since, short, is the end");
}

#[tokio::test]
async fn a_full_page_is_shared_whenever_it_was_read() {
    let log = CountingLog::new(1_000, true);
    let reader: Arc<dyn LogReader> = log.clone();
    let reads = CatchUpReads::new(Arc::default());
    let full = reads.page(&reader, 0, 10, reads.queue_start(1_000)).await.expect("the log answers");
    assert!(full.is_full() && !full.ends_catch_up_for(reads.queue_start(0)), "a full page never ends a catch-up");
    assert_eq!(full.end(), 10);
    log.head.store(2_000, Ordering::SeqCst);
    let again = reads.page(&reader, 0, 10, reads.queue_start(2_000)).await.expect("the log answers");
    assert!(Arc::ptr_eq(&full, &again));
    assert_eq!(log.reads(), 1);
}

#[tokio::test]
async fn a_failed_read_is_not_kept() {
    let log = CountingLog::new(25, true);
    let reader: Arc<dyn LogReader> = log.clone();
    let reads = CatchUpReads::new(Arc::default());
    log.failing.store(true, Ordering::SeqCst);
    assert!(reads.page(&reader, 5, 500, reads.queue_start(25)).await.is_err());
    log.failing.store(false, Ordering::SeqCst);
    let page = reads.page(&reader, 5, 500, reads.queue_start(25)).await.expect("the log answers again");
    assert_eq!(page.events.len(), 20);
    assert_eq!(log.reads(), 2);
}

#[tokio::test]
async fn only_the_newest_resume_points_keep_their_pages() {
    let log = CountingLog::new(10_000, true);
    let reader: Arc<dyn LogReader> = log.clone();
    let reads = CatchUpReads::new(Arc::default());
    for after in 0..=KEPT_PAGES as Seq {
        reads.page(&reader, after, 1, reads.queue_start(10_000)).await.expect("the log answers");
    }
    assert_eq!(log.reads(), KEPT_PAGES + 1);
    reads.page(&reader, KEPT_PAGES as Seq, 1, reads.queue_start(10_000)).await.expect("the log answers");
    assert_eq!(log.reads(), KEPT_PAGES + 1, "the newest is kept");
    reads.page(&reader, 0, 1, reads.queue_start(10_000)).await.expect("the log answers");
    assert_eq!(log.reads(), KEPT_PAGES + 2, "the oldest was let go");
}

#[tokio::test]
async fn a_page_is_let_go_of_once_its_read_is_older_than_a_storm() {
    let log = CountingLog::new(25, true);
    let reader: Arc<dyn LogReader> = log.clone();
    let keep_for = Duration::from_secs(1);
    let reads = CatchUpReads::keeping_for(keep_for, Arc::default());
    let first = reads.page(&reader, 5, 500, reads.queue_start(25)).await.expect("the log answers");
    let kept = reads.page(&reader, 5, 500, reads.queue_start(25)).await.expect("the log answers");
    assert!(Arc::ptr_eq(&first, &kept), "kept while young");
    tokio::time::sleep(keep_for + keep_for / 2).await;
    reads.page(&reader, 6, 500, reads.queue_start(25)).await.expect("the log answers");
    assert_eq!(reads.lock().by_after.len(), 1, "the old page went when another was read");
    let again = reads.page(&reader, 5, 500, reads.queue_start(25)).await.expect("the log answers");
    assert!(!Arc::ptr_eq(&first, &again), "read again");
    assert_eq!(log.reads(), 3);
}
