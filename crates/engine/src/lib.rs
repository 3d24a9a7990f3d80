//! The engine: the one place that changes alerts. It owns the single writer that decides
//! commands against the current state, makes the resulting events durable, and only then
//! publishes them and answers; it also owns the tokens and the expiry of timed alerts.
//!
//! It knows nothing of HTTP: transports call [`Engine::execute`], read [`Engine::book`], and
//! follow committed events through [`Engine::event_source`] (or subscribe to
//! [`Engine::committed`]); the engine is also the `tryvoha_follow::LogReader` of its log.
//!
//! Invariant: the [`AlertBook`] readers see is always the fold of the events in the log; it is
//! replaced only after the commit that produced its events returned.

mod audit;
mod clock;
mod credentials;
mod error;
mod expiry;
mod follow;
mod handoff;
mod incidents;
mod shelter_times;
mod tasks;
mod writer;

use std::sync::{Arc, RwLock};

use time::OffsetDateTime;
use tokio::sync::{broadcast, mpsc, oneshot};
use tryvoha_core::{
    Actor, Alert, AlertBook, AlertEvent, AlertField, AlertId, Command, Event, Grant, RegionRegistry, Seq,
};
use tryvoha_store::{HistoryQuery, HistoryRecord, PageEnd, Store, StoreError};

pub use clock::{Clock, SystemClock};
pub use credentials::{AdminCredential, NewTokenRequest, Principal, constant_time_eq, fingerprint, reset_admin};
pub use error::{AuthError, EngineError, TokenError};
pub use handoff::Handoff;
pub use tasks::{EngineTasks, WriterThread};

/// Where a request came from and what it may do.
#[derive(Clone, Debug)]
pub struct Request {
    pub command: Command,
    pub actor: Actor,
    pub grant: Grant,
    pub idempotency: Option<IdempotencyKey>,
}

/// An `Idempotency-Key` with its owner and a digest of the request it came with.
#[derive(Clone, Debug)]
pub struct IdempotencyKey {
    pub owner: String,
    pub key: String,
    pub fingerprint: String,
}

/// What a successful command did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The alert as it now stands.
    pub alert: Alert,
    /// True when this request (or the original request of a replayed idempotency key) created
    /// the alert.
    pub created: bool,
    /// The event written, when one was.
    pub event: Option<AlertEvent>,
    /// The fields an update (or a declaration that escalated an active alert) changed; empty
    /// when nothing changed or the alert is new.
    pub changed: Vec<AlertField>,
}

#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    registry: Arc<RegionRegistry>,
    book: RwLock<Arc<AlertBook>>,
    jobs: mpsc::Sender<writer::Message>,
    committed: broadcast::Sender<Arc<Event>>,
    clock: Arc<dyn Clock>,
    admin: Option<AdminCredential>,
    /// Serializes token revocations (a tokio mutex: held across the store calls' awaits).
    token_changes: tokio::sync::Mutex<()>,
    writer_life: writer::WriterLife,
}

/// How many committed events a slow `committed` subscriber may lag before it is told it lagged.
const COMMITTED_BUFFER: usize = 4096;
/// How many requests may wait for the writer before callers wait to enqueue.
const JOB_QUEUE: usize = 8192;

impl Engine {
    /// Loads the active alerts from the store and starts the writer thread and the expiry task,
    /// which end when the last `Engine` handle is dropped. Must be called inside a Tokio runtime.
    pub fn start(
        store: Arc<dyn Store>,
        registry: Arc<RegionRegistry>,
        clock: Arc<dyn Clock>,
        admin: Option<AdminCredential>,
    ) -> Result<Engine, StoreError> {
        Engine::start_with_tasks(store, registry, clock, admin).map(|(engine, _left_to_run)| engine)
    }

    /// Like [`Engine::start`], and hands the writer thread and the expiry task to the caller, who
    /// then owns them: watches them, and stops them when it is done ([`EngineTasks`]).
    pub fn start_with_tasks(
        store: Arc<dyn Store>,
        registry: Arc<RegionRegistry>,
        clock: Arc<dyn Clock>,
        admin: Option<AdminCredential>,
    ) -> Result<(Engine, EngineTasks), StoreError> {
        let book = restore_book(store.as_ref(), &registry)?;
        let next_seq = book.last_seq() + 1;
        let (jobs, receiver) = mpsc::channel(JOB_QUEUE);
        let (committed, _) = broadcast::channel(COMMITTED_BUFFER);
        let (writer_report, writer_life) = tokio::sync::watch::channel(None);
        let inner = Arc::new(Inner {
            store,
            registry,
            book: RwLock::new(Arc::new(book)),
            jobs,
            committed,
            clock,
            admin,
            token_changes: tokio::sync::Mutex::new(()),
            writer_life,
        });
        let queue = inner.jobs.downgrade();
        let thread = writer::spawn(Arc::downgrade(&inner), receiver, next_seq, writer_report)?;
        let expiry = expiry::spawn(Arc::downgrade(&inner));
        Ok((Engine { inner }, EngineTasks { writer: WriterThread { thread, queue }, expiry }))
    }

    /// Applies a command: decided, durable, published, then answered.
    ///
    /// Under a [`Handoff`] (the caller's time limit), the request is applied only if the
    /// writer takes it before the caller gives up; once taken, it is answered.
    pub async fn execute(&self, request: Request) -> Result<Outcome, EngineError> {
        let mut outcomes = self.execute_all(vec![request]).await?;
        // The writer answers a job with one outcome per request, in order.
        outcomes.pop().ok_or(EngineError::ShuttingDown)
    }

    /// Applies several commands together: all decided in one pass of the writer against one
    /// working book (each sees the ones before it) and committed in one transaction, or none.
    /// A refusal of any (scope, a finished alert, an invalid text) refuses them all and writes
    /// nothing. The outcomes are in the order of the requests.
    pub async fn execute_all(&self, requests: Vec<Request>) -> Result<Vec<Outcome>, EngineError> {
        if requests.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, answer) = oneshot::channel();
        let job = writer::Job { requests, reply, handoff: handoff::current() };
        self.inner.jobs.send(writer::Message::Job(job)).await.map_err(|_| EngineError::ShuttingDown)?;
        answer.await.map_err(|_| EngineError::ShuttingDown)?
    }

    /// False once the writer thread has stopped: no write can be made any more.
    pub fn writer_running(&self) -> bool {
        self.inner.writer_life.borrow().is_none()
    }

    /// Resolves when the writer thread stops, with why. While any `Engine` handle lives (this
    /// one does), it stops only by failing or when its owner stops it ([`WriterThread::stop`]).
    pub async fn writer_stopped(&self) -> String {
        let mut life = self.inner.writer_life.clone();
        match life.wait_for(Option::is_some).await {
            Ok(reason) => reason.clone().unwrap_or_default(),
            Err(_) => "the writer thread ended without a word".to_owned(),
        }
    }

    /// The current state. Cheap: a shared snapshot that later commits do not change.
    pub fn book(&self) -> Arc<AlertBook> {
        self.inner.current_book()
    }

    pub fn registry(&self) -> &Arc<RegionRegistry> {
        &self.inner.registry
    }

    pub fn now(&self) -> OffsetDateTime {
        self.inner.clock.now()
    }

    /// An event another node committed to the shared log, as the cluster bus brought it: applied
    /// if it is the next one, otherwise the log is read up to it. Never waits: a full queue
    /// holds work whose own commit reads the log first.
    pub fn offer(&self, event: Event) {
        let _ = self.inner.jobs.try_send(writer::Message::Offered(Box::new(event)));
    }

    /// Events as they are committed, in sequence order.
    pub fn committed(&self) -> broadcast::Receiver<Arc<Event>> {
        self.inner.committed.subscribe()
    }

    /// An alert, active or finished.
    pub async fn alert(&self, id: AlertId) -> Result<Option<Alert>, EngineError> {
        if let Some(alert) = self.book().get(id) {
            return Ok(Some(alert.clone()));
        }
        self.blocking(move |store| store.alert(id)).await
    }

    pub async fn events_after(&self, after: Seq, limit: usize) -> Result<Vec<Event>, EngineError> {
        self.blocking(move |store| store.events_after(after, limit)).await
    }

    /// Every event of alert `id`, oldest first.
    pub async fn alert_events(&self, id: AlertId) -> Result<Vec<Event>, EngineError> {
        self.blocking(move |store| store.alert_events(id)).await
    }

    /// The alerts created by requests of `owner` whose idempotency key starts with `prefix`.
    pub async fn alerts_keyed(&self, owner: String, prefix: String) -> Result<Vec<AlertId>, EngineError> {
        let records = self.blocking(move |store| store.idempotency_records_with_prefix(&owner, &prefix)).await?;
        // A request that met an active alert (and escalated it) did not create it: it owns nothing.
        Ok(records.into_iter().filter(|r| r.created).map(|r| r.alert_id).collect())
    }

    /// Finished alerts (live and imported) matching `query`.
    pub async fn history(&self, query: HistoryQuery) -> Result<Vec<HistoryRecord>, EngineError> {
        self.blocking(move |store| store.history(&query)).await
    }

    /// Where a page of at most `limit` records of `query` ends (oldest first, after `query.after`).
    pub async fn history_page_end(&self, query: HistoryQuery, limit: usize) -> Result<Option<PageEnd>, EngineError> {
        self.blocking(move |store| store.history_page_end(&query, limit)).await
    }

    pub async fn last_seq(&self) -> Result<Seq, EngineError> {
        self.blocking(|store| store.last_seq()).await
    }

    /// Runs a store call off the async threads.
    async fn blocking<T: Send + 'static>(
        &self,
        call: impl FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, EngineError> {
        let store = self.inner.store.clone();
        tokio::task::spawn_blocking(move || call(store.as_ref()))
            .await
            .map_err(|_| EngineError::ShuttingDown)?
            .map_err(EngineError::Unavailable)
    }
}

/// How many of the newest events are looked through for the last alert change at a start.
const RECENT_FOR_CHANGE: u64 = 1024;

/// The book as the store holds it: the active alerts, the highest alert id, the log's head.
pub(crate) fn restore_book(store: &dyn Store, registry: &Arc<RegionRegistry>) -> Result<AlertBook, StoreError> {
    let last_seq = store.last_seq()?;
    // When an alert last changed (what the feeds' `updated` says): incidents and shelter
    // statuses are not alert changes, so the latest alert event is looked for among the last.
    let recent = store.events_after(last_seq.saturating_sub(RECENT_FOR_CHANGE), RECENT_FOR_CHANGE as usize)?;
    let last_change_at = recent.iter().rev().find_map(Event::as_alert).map(|event| event.at);
    let mut book = AlertBook::restore(
        registry.clone(),
        store.active_alerts()?,
        store.highest_alert_id()?,
        last_seq,
        last_change_at,
    );
    book.set_shelter_times(shelter_times::times_of(store.shelter_times()?));
    Ok(book)
}

impl Inner {
    fn current_book(&self) -> Arc<AlertBook> {
        // The lock only guards swapping an Arc; a panic cannot leave it half-written.
        self.book.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    fn replace_book(&self, book: AlertBook) {
        *self.book.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(book);
    }
}
