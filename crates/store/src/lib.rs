//! The storage boundary: the durable event log, the alert index, the token registry, the
//! followers' cursors, webhook endpoints and push subscriptions, as traits that every adapter
//! (tryvoha-sqlite, tryvoha-postgres) implements, plus the contract suite (`contract`, feature
//! `contract`) each adapter runs against itself.
//!
//! The traits are blocking on purpose: the engine calls them from its single writer thread or
//! from `spawn_blocking`, and an embedded database has no async I/O to offer anyway.
//! This crate knows no SQL and no driver types: adapters map driver errors into [`StoreError`].

mod cluster;
#[cfg(feature = "contract")]
pub mod contract;
#[cfg(feature = "testing")]
pub mod faults;
mod incidents;
mod push;
mod record;
mod shelter_times;
mod transfer;
mod webhooks;

pub use record::{
    HistoryOrder, HistoryPosition, HistoryQuery, HistoryRecord, IMPORTED_ID_BASE, IdempotencyRecord, ImportedRecord,
    NewToken, PageEnd, TokenId, TokenRecord,
};

pub use cluster::{KeyStore, LeaseStore};
pub use incidents::{IncidentQuery, IncidentStore};
pub use push::{NewPushSubscription, PushFilter, PushStore, PushSubscription, PushSubscriptionId};
pub use shelter_times::ShelterTimeStore;
pub use transfer::{Copied, Export, HistoryRow, IdMarks, Restore, TransferError, transfer, verify};
pub use webhooks::{Paused, WebhookFormat, WebhookId, WebhookRecord, WebhookSpec, WebhookStore, webhook_consumer};

use tryvoha_core::{Alert, AlertId, Event, Seq, Shelter, ShelterId, ShelterInfo};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// The write contradicts what is stored (e.g. a sequence number that is not the next one);
    /// nothing was written.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A cursor did not stand where the caller expected (another follower moved it, or the
    /// caller's view is stale); it was left as it was.
    #[error("cursor {consumer:?} stands at {actual}, not at the expected {expected}")]
    CursorMoved { consumer: String, expected: Seq, actual: Seq },
    /// A cursor may not pass the log's last event; it was left as it was.
    #[error("cursor {consumer:?} cannot move to {to}: the log ends at {head}")]
    CursorBeyondHead { consumer: String, to: Seq, head: Seq },
    /// The storage could not be reached or failed; nothing was written.
    #[error("storage unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// One atomic, durable write: events (numbered by the caller, contiguous after the log's last
/// sequence number) and the idempotency keys they answer.
#[derive(Debug, Default)]
pub struct Commit {
    pub events: Vec<Event>,
    pub idempotency: Vec<IdempotencyRecord>,
}

/// The event log and the alert index kept beside it (and the incident and shelter status
/// indexes, [`IncidentStore`]).
///
/// An event that finishes an alert also adds it to the history, in the same commit.
///
/// Invariant: `append` is all-or-nothing and returns only once the commit is durable (fsynced);
/// sequence numbers in the log are gap-free, start at 1 and follow commit order.
pub trait EventLog: Send + Sync {
    fn append(&self, commit: &Commit) -> StoreResult<()>;
    /// Events with `seq > after`, oldest first, at most `limit`.
    fn events_after(&self, after: Seq, limit: usize) -> StoreResult<Vec<Event>>;
    /// Every event of alert `id`, oldest first.
    fn alert_events(&self, id: AlertId) -> StoreResult<Vec<Event>>;
    /// The highest sequence number written, 0 for an empty log.
    fn last_seq(&self) -> StoreResult<Seq>;
    /// The alert as it stood after its latest event.
    fn alert(&self, id: AlertId) -> StoreResult<Option<Alert>>;
    fn active_alerts(&self) -> StoreResult<Vec<Alert>>;
    /// The highest alert id ever written, if any.
    fn highest_alert_id(&self) -> StoreResult<Option<AlertId>>;
    fn idempotency_record(&self, owner: &str, key: &str) -> StoreResult<Option<IdempotencyRecord>>;
    /// [`idempotency_record`](EventLog::idempotency_record) for the writer while it decides a
    /// batch: an adapter reads it where the writer writes, so that no reader (a history scan, a
    /// flood of token checks) can make a keyed write wait. It sees every commit before it.
    fn idempotency_for_writer(&self, owner: &str, key: &str) -> StoreResult<Option<IdempotencyRecord>> {
        self.idempotency_record(owner, key)
    }
    /// [`alert`](EventLog::alert) for the writer, as [`idempotency_for_writer`](EventLog::idempotency_for_writer).
    fn alert_for_writer(&self, id: AlertId) -> StoreResult<Option<Alert>> {
        self.alert(id)
    }
    /// Every record of `owner` whose key starts with `prefix`, by key: the alerts one CAP message
    /// created, one per region, are keyed `identifier#region`.
    fn idempotency_records_with_prefix(&self, owner: &str, prefix: &str) -> StoreResult<Vec<IdempotencyRecord>>;
}

/// API tokens, stored by the hash of their secret only.
pub trait TokenStore: Send + Sync {
    fn create_token(&self, token: &NewToken) -> StoreResult<TokenRecord>;
    fn tokens(&self) -> StoreResult<Vec<TokenRecord>>;
    fn token_by_hash(&self, secret_hash: &str) -> StoreResult<Option<TokenRecord>>;
    /// Marks a token revoked; `NotFound` when there is no such token.
    fn revoke_token(&self, id: TokenId, at: time::OffsetDateTime) -> StoreResult<TokenRecord>;
}

/// The shelter registry. Writes are all-or-nothing.
pub trait ShelterStore: Send + Sync {
    fn shelters(&self) -> StoreResult<Vec<Shelter>>;
    /// Adds every shelter or none.
    fn add_shelters(&self, shelters: &[ShelterInfo]) -> StoreResult<Vec<Shelter>>;
    /// Adds the shelters that are not there yet, by [`shelter_key`]: importing the same file
    /// twice adds nothing the second time. The caller serializes writes to the registry (the
    /// default reads, then adds).
    fn import_shelters(&self, shelters: &[ShelterInfo]) -> StoreResult<ShelterImport> {
        let mut known: std::collections::HashSet<String> =
            self.shelters()?.iter().map(|s| shelter_key(&s.info)).collect();
        let new: Vec<ShelterInfo> = shelters.iter().filter(|info| known.insert(shelter_key(info))).cloned().collect();
        let unchanged = shelters.len() - new.len();
        Ok(ShelterImport { added: self.add_shelters(&new)?, unchanged })
    }
    /// `NotFound` when there is no such shelter.
    fn update_shelter(&self, id: ShelterId, info: &ShelterInfo) -> StoreResult<Shelter>;
    /// `NotFound` when there is no such shelter.
    fn remove_shelter(&self, id: ShelterId) -> StoreResult<()>;
    /// Adds `shelters` if this store was never seeded before, and remembers that it was: a
    /// bundled example appears once and stays deleted if an operator removes it.
    fn seed_shelters_once(&self, shelters: &[ShelterInfo]) -> StoreResult<bool>;
}

/// What an import of shelters did.
#[derive(Clone, Debug, PartialEq)]
pub struct ShelterImport {
    pub added: Vec<Shelter>,
    /// Rows that were already in the registry (or earlier in the same import).
    pub unchanged: usize,
}

/// What makes two shelter rows the same shelter: the Ukrainian name and the place to about ten
/// centimetres (6 decimals of a degree). Source files carry no stable id; the name alone is not
/// unique (metro exits, school basements), the position alone is not either (two shelters in
/// one building).
pub fn shelter_key(info: &ShelterInfo) -> String {
    format!("{}|{:.6}|{:.6}", info.name_uk.trim(), info.lat, info.lon)
}

/// Finished alerts: those this server ran (written by `append` with the event that finished
/// them) and imported ones.
pub trait HistoryStore: Send + Sync {
    fn history(&self, query: &HistoryQuery) -> StoreResult<Vec<HistoryRecord>>;
    /// Where a page of at most `limit` records of `query` (oldest first, after `query.after`)
    /// ends; `None` when the page is empty. Lets an export name its next page before it streams
    /// this one. The default reads the page; adapters answer from an index.
    fn history_page_end(&self, query: &HistoryQuery, limit: usize) -> StoreResult<Option<PageEnd>> {
        let query =
            HistoryQuery { order: HistoryOrder::Started, limit: Some(limit.saturating_add(1)), ..query.clone() };
        let records = self.history(&query)?;
        let page = &records[..records.len().min(limit)];
        Ok(page.last().map(|last| PageEnd { last: last.position(), more: records.len() > limit }))
    }
    /// Adds the records whose key is new, all in one transaction; returns how many were added.
    /// Their ids are assigned from [`IMPORTED_ID_BASE`] up.
    fn import_history(&self, records: &[ImportedRecord]) -> StoreResult<usize>;
}

/// Where each follower of the log (MQTT, webhooks, Web Push, the cluster bus) stands: by
/// consumer name, the last sequence number its far side acknowledged. A follower moves its cursor
/// only after an acknowledgement, so after a crash it repeats at most the unacknowledged tail.
///
/// Invariant: a cursor changes only by compare-and-set, durably, and never passes the log's head.
pub trait CursorStore: Send + Sync {
    /// The last sequence number delivered to `consumer`; 0 (nothing yet) for one never seen.
    fn cursor(&self, consumer: &str) -> StoreResult<Seq> {
        Ok(self.stored_cursor(consumer)?.unwrap_or(0))
    }
    /// The cursor as stored; `None` for a consumer never seen (a new channel starts at the head
    /// rather than replaying the whole log).
    fn stored_cursor(&self, consumer: &str) -> StoreResult<Option<Seq>>;
    /// Moves `consumer`'s cursor from `expected` (0 for a consumer never seen) to `to`, and
    /// returns once that is durable. [`StoreError::CursorMoved`] when it stands elsewhere,
    /// [`StoreError::CursorBeyondHead`] when `to` is past the log's last event; either way
    /// nothing changes. A `to` below `expected` rewinds: events are delivered again, none skipped.
    fn set_cursor(&self, consumer: &str, expected: Seq, to: Seq) -> StoreResult<()>;
    /// Several moves in one durable write, all or none: the first that [`set_cursor`] would
    /// refuse refuses them all. A channel with many consumers (one per webhook endpoint) keeps
    /// its cursors with one fsync rather than one each.
    ///
    /// [`set_cursor`]: CursorStore::set_cursor
    fn set_cursors(&self, moves: &[CursorMove]) -> StoreResult<()>;
    /// Forgets `consumer` (a webhook endpoint removed): it stands at 0 again.
    fn remove_cursor(&self, consumer: &str) -> StoreResult<()>;
}

/// One cursor move of [`CursorStore::set_cursors`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CursorMove {
    pub consumer: String,
    pub expected: Seq,
    pub to: Seq,
}

pub trait Store:
    EventLog
    + IncidentStore
    + TokenStore
    + ShelterStore
    + ShelterTimeStore
    + HistoryStore
    + CursorStore
    + WebhookStore
    + PushStore
    + LeaseStore
    + KeyStore
{
}

impl<
    T: EventLog
        + IncidentStore
        + TokenStore
        + ShelterStore
        + ShelterTimeStore
        + HistoryStore
        + CursorStore
        + WebhookStore
        + PushStore
        + LeaseStore
        + KeyStore,
> Store for T
{
}
