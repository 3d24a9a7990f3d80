//! One subscriber's sequence of frames: the state or the missed events first, then live ones,
//! strictly increasing, with no gap and no duplicate.

use std::collections::VecDeque;
use std::sync::Arc;

use time::OffsetDateTime;
use tokio::sync::mpsc;
use tryvoha_core::Seq;
use tryvoha_follow::{LogReader, ReadError};

use crate::catch_up::QueueStart;
use crate::filter::Filter;
use crate::frame::Frame;
use crate::hub::{Hub, Subscription};
use crate::metrics::Transport;
use crate::signer::Signer;
use crate::tap::Outlet;

/// How many log events are read at once while catching up.
const CATCH_UP_PAGE: usize = 500;

/// Where a subscriber starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resume {
    /// Nothing seen yet: start with a `snapshot` of the current state.
    Fresh,
    /// Seen everything up to this sequence number (`Last-Event-ID` or `?after=`).
    After(Seq),
}

#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// Shared: one read of the log may serve many subscribers ([`crate::catch_up`]).
    #[error("cannot read the event log to catch up")]
    Log(#[from] Arc<ReadError>),
}

impl From<ReadError> for FeedError {
    fn from(error: ReadError) -> FeedError {
        FeedError::Log(Arc::new(error))
    }
}

/// What a feed reads from the log before its live queue.
#[derive(Clone, Copy, Debug)]
enum FromLog {
    /// Nothing (any more): the live queue.
    Nothing,
    /// The events after this sequence number, a page at a time.
    After(Seq),
    /// A resume point beyond this node's book, to be checked against the log's head first.
    BeyondBook(Seq),
}

pub struct Feed {
    log: Arc<dyn LogReader>,
    hub: Arc<Hub>,
    signer: Arc<Signer>,
    filter: Filter,
    subscription: Subscription,
    pending: VecDeque<Arc<Frame>>,
    /// What comes from the log before the live queue.
    from_log: FromLog,
    /// Where the live queue starts: every event after the hub's point when this feed registered
    /// (or the book's then, if that is later) is in it.
    queue_start: QueueStart,
    last_sent: Seq,
}

impl Feed {
    /// Registers with the hub first, then decides what comes before the live frames. `log` is
    /// where the hub's events are committed (the engine).
    pub fn open<L: LogReader + Clone + 'static>(
        log: &L,
        hub: &Arc<Hub>,
        signer: &Arc<Signer>,
        filter: Filter,
        resume: Resume,
    ) -> Feed {
        let subscription = hub.subscribe(filter.clone());
        let book = log.book();
        // Every event after the hub's point at registering is queued. The book, read after
        // registering, is usually at or past that point; when the hub is ahead of it (it read
        // the log itself, or another node's events are not applied here yet), the events in
        // between are in neither the book nor the queue, and are read from the log.
        let queued_after = subscription.queued_after.max(book.last_seq());
        let mut feed = Feed {
            log: Arc::new(log.clone()),
            hub: hub.clone(),
            signer: signer.clone(),
            filter,
            subscription,
            pending: VecDeque::new(),
            from_log: FromLog::Nothing,
            queue_start: hub.catch_up_reads().queue_start(queued_after),
            last_sent: 0,
        };
        // The latency of a state frame counts from now, on the clock the delivery is timed by.
        let now = OffsetDateTime::now_utc();
        match resume {
            Resume::Fresh => {
                feed.pending.push_back(Arc::new(Frame::snapshot(&book, &feed.filter, signer, now)));
                feed.after_state(book.last_seq());
            }
            // Beyond this node's book: another node of the cluster gave it, and this node has
            // not applied the log that far yet (the log's head decides, in `next`).
            Resume::After(after) if after > book.last_seq() => {
                feed.from_log = FromLog::BeyondBook(after);
                feed.last_sent = after;
            }
            Resume::After(after) => {
                feed.from_log = FromLog::After(after);
                feed.last_sent = after;
            }
        }
        feed
    }

    /// The next frame, or `None` when the hub cut this subscriber off (it fell behind): the
    /// transport then closes the connection and the client resumes by its last id.
    pub async fn next(&mut self) -> Result<Option<Arc<Frame>>, FeedError> {
        // Changed only once decided: a `next` dropped while the head is read (a heartbeat won
        // the select) decides it again at the next call.
        if let FromLog::BeyondBook(after) = self.from_log {
            self.resume_beyond_book(after).await?;
        }
        loop {
            if let Some(frame) = self.pending_frame() {
                return Ok(Some(frame));
            }
            if let FromLog::After(after) = self.from_log {
                self.catch_up_page(after).await?;
                continue;
            }
            match self.subscription.receiver.recv().await {
                Some(frame) => match self.unsent(frame) {
                    Some(frame) => return Ok(Some(frame)),
                    None => continue,
                },
                None => return Ok(None),
            }
        }
    }

    /// The next frame if one is ready now, without waiting: what queued up while the last one
    /// was written (a burst) or the rest of a catch-up page, for the transport to write in one
    /// go. `None` when the next frame needs a wait or a read of the log (then [`Feed::next`]),
    /// or when the subscriber was cut off (the next `next` says so).
    pub fn next_ready(&mut self) -> Option<Arc<Frame>> {
        if matches!(self.from_log, FromLog::BeyondBook(_)) {
            return None;
        }
        loop {
            if let Some(frame) = self.pending_frame() {
                return Some(frame);
            }
            if matches!(self.from_log, FromLog::After(_)) {
                return None;
            }
            let frame = self.subscription.receiver.try_recv().ok()?;
            if let Some(frame) = self.unsent(frame) {
                return Some(frame);
            }
        }
    }

    /// Lets the hub write this subscriber's frames straight to its stream's socket while the
    /// stream is parked ([`Feed::park`]).
    pub fn write_straight_to(&self, outlet: Arc<dyn Outlet>, transport: Transport) {
        self.subscription.tap.attach(outlet, transport);
    }

    /// Before the stream waits: if it has nothing to write (it is live, and caught up with its
    /// queue), the hub writes its frames to the socket itself from now on, until
    /// [`Feed::unpark`]. True when parked; false when a frame is ready (a wait for
    /// [`Feed::next`] ends at once) or the socket is not the hub's to write to.
    pub fn park(&mut self) -> bool {
        if !self.pending.is_empty() || !matches!(self.from_log, FromLog::Nothing) {
            return false;
        }
        let Subscription { tap, receiver, .. } = &mut self.subscription;
        let mut queued = None;
        let parked = tap.park(self.last_sent, || match receiver.try_recv() {
            Ok(frame) => {
                queued = Some(frame);
                true
            }
            Err(mpsc::error::TryRecvError::Empty) => false,
            Err(mpsc::error::TryRecvError::Disconnected) => true,
        });
        if let Some(frame) = queued.and_then(|frame| self.unsent(frame)) {
            // Handed out by the next `next`, which counts it sent again: the same number.
            self.pending.push_back(frame);
        }
        parked
    }

    /// After a wait while parked, before the stream writes anything: the socket is its own
    /// again. What the hub wrote meanwhile counts as sent. Returns how many bytes of the next
    /// queued frame the hub wrote before it found the socket full: the transport writes only
    /// the rest of that frame.
    pub fn unpark(&mut self) -> usize {
        let taken = self.subscription.tap.unpark();
        self.last_sent = self.last_sent.max(taken.last_written);
        taken.written_of_next
    }

    /// The next frame in hand: a state frame, or one of the page read from the log.
    fn pending_frame(&mut self) -> Option<Arc<Frame>> {
        let frame = self.pending.pop_front()?;
        self.last_sent = self.last_sent.max(frame.seq);
        Some(frame)
    }

    /// A live frame, unless it was already sent while catching up.
    fn unsent(&mut self, frame: Arc<Frame>) -> Option<Arc<Frame>> {
        if frame.seq <= self.last_sent {
            return None;
        }
        self.last_sent = frame.seq;
        Some(frame)
    }

    /// A resume point in the log (another node wrote it; this node's book follows within a
    /// moment) is caught up from the log like any other: the live frames of the events in
    /// between come later and are skipped. One the log never reached (another server's, or a
    /// log that was reset) cannot be served: a `reset` says so with the current state rather
    /// than leave a silent gap.
    async fn resume_beyond_book(&mut self, after: Seq) -> Result<(), FeedError> {
        if after <= self.log.head().await? {
            self.from_log = FromLog::After(after);
            return Ok(());
        }
        let book = self.log.book();
        let now = OffsetDateTime::now_utc();
        self.pending.push_back(Arc::new(Frame::reset(&book, &self.filter, after, &self.signer, now)));
        self.after_state(book.last_seq());
        Ok(())
    }

    /// After a `snapshot` or `reset` of the book at `seq`: what the queue does not hold, from
    /// the log.
    fn after_state(&mut self, seq: Seq) {
        self.last_sent = seq;
        self.from_log = if self.queue_start.after > seq { FromLog::After(seq) } else { FromLog::Nothing };
    }

    /// The sequence number of the last frame handed out.
    pub fn last_sent(&self) -> Seq {
        self.last_sent
    }

    async fn catch_up_page(&mut self, after: Seq) -> Result<(), FeedError> {
        // Shared with the subscribers resuming from the same point (a storm after a restart).
        // Boxed: a read is rare, and inline it would be part of every waiting feed's future.
        let read = self.hub.catch_up_reads().page(&self.log, after, CATCH_UP_PAGE, self.queue_start);
        let page = Box::pin(read).await?;
        // A short page is the end of the log as of its read: read after this feed registered,
        // or reaching where its queue starts, it ends the catch-up, and live frames take over
        // now rather than after one more read (the queue does not fill while the log is
        // re-read). A page read earlier that ends short of that point: the read goes on from
        // its end.
        self.from_log =
            if page.ends_catch_up_for(self.queue_start) { FromLog::Nothing } else { FromLog::After(page.end()) };
        let registry = self.hub.registry();
        for event in page.events.iter().filter(|e| e.seq() > self.last_sent && self.filter.matches_event(e, registry)) {
            // The frame the hub made (or will use) for this event: signed once either way.
            self.pending.push_back(self.hub.frames().frame(event, &self.signer));
        }
        Ok(())
    }
}
