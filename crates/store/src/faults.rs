//! A store that fails on purpose, for the tests of the crates above this one: it forwards every
//! call to a real store and, when a switch in its [`Faults`] says so, makes `append` panic, fail,
//! land but report failure, or wait.
//!
//! Compiled only with the `testing` feature, which dependents enable in their
//! `[dev-dependencies]`: no production build carries it.
//!
//! Every trait method is forwarded, the defaulted ones too: an adapter may override a default
//! (SQLite reads `idempotency_for_writer` on the writer's connection), and a wrapper that fell
//! back to the default would quietly test something else.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use tryvoha_core::{Alert, AlertId, Event, Seq, Shelter, ShelterId, ShelterInfo};

use crate::{
    Commit, CursorStore, EventLog, HistoryQuery, HistoryRecord, HistoryStore, IdempotencyRecord, ImportedRecord,
    NewToken, PageEnd, ShelterImport, ShelterStore, Store, StoreError, StoreResult, TokenId, TokenRecord, TokenStore,
};

/// What a panicking append panics with, so that a test can look for it in the writer's reason.
pub const APPEND_PANIC: &str = "injected: the store's append panicked";

/// One fault, off until a test turns it on.
#[derive(Debug, Default)]
pub struct Switch(AtomicBool);

impl Switch {
    pub fn on(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn off(&self) {
        self.0.store(false, Ordering::SeqCst);
    }
    fn is_on(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
    /// Whether it was on; it is off afterwards.
    fn take(&self) -> bool {
        self.0.swap(false, Ordering::SeqCst)
    }
}

/// The switches of a [`FaultyStore`], shared with the test that flips them.
#[derive(Default)]
pub struct Faults {
    /// Every append panics with [`APPEND_PANIC`] (a bug in the store).
    pub append_panics: Switch,
    /// Every append fails with `Unavailable` and writes nothing (a full disk).
    pub append_fails: Switch,
    /// The next append writes, then reports `Unavailable` (a commit whose answer was lost);
    /// the switch turns itself off.
    pub append_lands_but_fails_once: Switch,
    held: Mutex<Option<HeldAppend>>,
    /// How many events each append asked of the store carried, in order.
    appends: Mutex<Vec<usize>>,
}

struct HeldAppend {
    on_begin: Box<dyn FnOnce() + Send>,
    released: mpsc::Receiver<()>,
}

impl Faults {
    pub fn new() -> Arc<Faults> {
        Arc::new(Faults::default())
    }

    /// Makes the next append call `on_begin`, then wait until the returned sender sends or is
    /// dropped before it writes (a slow disk). `on_begin` runs on the writer's thread: it should
    /// only signal, e.g. send on a channel.
    pub fn hold_next_append(&self, on_begin: impl FnOnce() + Send + 'static) -> mpsc::Sender<()> {
        let (release, released) = mpsc::channel();
        *self.held_slot() = Some(HeldAppend { on_begin: Box::new(on_begin), released });
        release
    }

    /// How many events each append carried, in order, whatever became of it: one entry per
    /// transaction the writer asked for.
    pub fn appends(&self) -> Vec<usize> {
        unpoisoned(&self.appends).clone()
    }

    fn take_held(&self) -> Option<HeldAppend> {
        self.held_slot().take()
    }

    fn held_slot(&self) -> std::sync::MutexGuard<'_, Option<HeldAppend>> {
        unpoisoned(&self.held)
    }
}

/// A poisoned lock only means a test thread panicked while holding it; what it guards (an
/// optional hold, a list of sizes) is still whole.
fn unpoisoned<T>(lock: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A store that forwards to `inner` and injects the faults its [`Faults`] switch on.
pub struct FaultyStore {
    inner: Arc<dyn Store>,
    faults: Arc<Faults>,
}

impl FaultyStore {
    pub fn new(inner: Arc<dyn Store>, faults: Arc<Faults>) -> FaultyStore {
        FaultyStore { inner, faults }
    }
}

impl EventLog for FaultyStore {
    fn append(&self, commit: &Commit) -> StoreResult<()> {
        unpoisoned(&self.faults.appends).push(commit.events.len());
        if self.faults.append_panics.is_on() {
            panic!("{APPEND_PANIC}");
        }
        if let Some(held) = self.faults.take_held() {
            (held.on_begin)();
            let _ = held.released.recv();
        }
        if self.faults.append_fails.is_on() {
            return Err(StoreError::Unavailable("injected: the disk is full".into()));
        }
        self.inner.append(commit)?;
        if self.faults.append_lands_but_fails_once.take() {
            return Err(StoreError::Unavailable(
                "injected: the connection broke before the commit was confirmed".into(),
            ));
        }
        Ok(())
    }
    fn events_after(&self, after: Seq, limit: usize) -> StoreResult<Vec<Event>> {
        self.inner.events_after(after, limit)
    }

    fn alert_events(&self, id: AlertId) -> StoreResult<Vec<Event>> {
        self.inner.alert_events(id)
    }
    fn last_seq(&self) -> StoreResult<Seq> {
        self.inner.last_seq()
    }
    fn alert(&self, id: AlertId) -> StoreResult<Option<Alert>> {
        self.inner.alert(id)
    }
    fn active_alerts(&self) -> StoreResult<Vec<Alert>> {
        self.inner.active_alerts()
    }
    fn highest_alert_id(&self) -> StoreResult<Option<AlertId>> {
        self.inner.highest_alert_id()
    }
    fn idempotency_record(&self, owner: &str, key: &str) -> StoreResult<Option<IdempotencyRecord>> {
        self.inner.idempotency_record(owner, key)
    }
    fn idempotency_for_writer(&self, owner: &str, key: &str) -> StoreResult<Option<IdempotencyRecord>> {
        self.inner.idempotency_for_writer(owner, key)
    }
    fn alert_for_writer(&self, id: AlertId) -> StoreResult<Option<Alert>> {
        self.inner.alert_for_writer(id)
    }
    fn idempotency_records_with_prefix(&self, owner: &str, prefix: &str) -> StoreResult<Vec<IdempotencyRecord>> {
        self.inner.idempotency_records_with_prefix(owner, prefix)
    }
}

impl TokenStore for FaultyStore {
    fn create_token(&self, token: &NewToken) -> StoreResult<TokenRecord> {
        self.inner.create_token(token)
    }
    fn tokens(&self) -> StoreResult<Vec<TokenRecord>> {
        self.inner.tokens()
    }
    fn token_by_hash(&self, secret_hash: &str) -> StoreResult<Option<TokenRecord>> {
        self.inner.token_by_hash(secret_hash)
    }
    fn revoke_token(&self, id: TokenId, at: time::OffsetDateTime) -> StoreResult<TokenRecord> {
        self.inner.revoke_token(id, at)
    }
}

impl ShelterStore for FaultyStore {
    fn shelters(&self) -> StoreResult<Vec<Shelter>> {
        self.inner.shelters()
    }
    fn add_shelters(&self, shelters: &[ShelterInfo]) -> StoreResult<Vec<Shelter>> {
        self.inner.add_shelters(shelters)
    }
    fn import_shelters(&self, shelters: &[ShelterInfo]) -> StoreResult<ShelterImport> {
        self.inner.import_shelters(shelters)
    }
    fn update_shelter(&self, id: ShelterId, info: &ShelterInfo) -> StoreResult<Shelter> {
        self.inner.update_shelter(id, info)
    }
    fn remove_shelter(&self, id: ShelterId) -> StoreResult<()> {
        self.inner.remove_shelter(id)
    }
    fn seed_shelters_once(&self, shelters: &[ShelterInfo]) -> StoreResult<bool> {
        self.inner.seed_shelters_once(shelters)
    }
}

impl HistoryStore for FaultyStore {
    fn history(&self, query: &HistoryQuery) -> StoreResult<Vec<HistoryRecord>> {
        self.inner.history(query)
    }
    fn history_page_end(&self, query: &HistoryQuery, limit: usize) -> StoreResult<Option<PageEnd>> {
        self.inner.history_page_end(query, limit)
    }
    fn import_history(&self, records: &[ImportedRecord]) -> StoreResult<usize> {
        self.inner.import_history(records)
    }
}

impl CursorStore for FaultyStore {
    fn stored_cursor(&self, consumer: &str) -> StoreResult<Option<Seq>> {
        self.inner.stored_cursor(consumer)
    }

    fn cursor(&self, consumer: &str) -> StoreResult<Seq> {
        self.inner.cursor(consumer)
    }
    fn set_cursor(&self, consumer: &str, expected: Seq, to: Seq) -> StoreResult<()> {
        self.inner.set_cursor(consumer, expected, to)
    }

    fn set_cursors(&self, moves: &[crate::CursorMove]) -> StoreResult<()> {
        self.inner.set_cursors(moves)
    }

    fn remove_cursor(&self, consumer: &str) -> StoreResult<()> {
        self.inner.remove_cursor(consumer)
    }
}

impl crate::WebhookStore for FaultyStore {
    fn create_webhook(
        &self,
        spec: &crate::WebhookSpec,
        secret: &str,
        created_at: time::OffsetDateTime,
    ) -> StoreResult<crate::WebhookRecord> {
        self.inner.create_webhook(spec, secret, created_at)
    }

    fn webhooks(&self) -> StoreResult<Vec<crate::WebhookRecord>> {
        self.inner.webhooks()
    }

    fn update_webhook(
        &self,
        id: crate::WebhookId,
        spec: &crate::WebhookSpec,
        paused: Option<&crate::Paused>,
    ) -> StoreResult<crate::WebhookRecord> {
        self.inner.update_webhook(id, spec, paused)
    }

    fn remove_webhook(&self, id: crate::WebhookId) -> StoreResult<()> {
        self.inner.remove_webhook(id)
    }
}

impl crate::PushStore for FaultyStore {
    fn upsert_push_subscription(
        &self,
        subscription: &crate::NewPushSubscription,
    ) -> StoreResult<(crate::PushSubscription, bool)> {
        self.inner.upsert_push_subscription(subscription)
    }

    fn push_subscriptions(&self) -> StoreResult<Vec<crate::PushSubscription>> {
        self.inner.push_subscriptions()
    }

    fn remove_push_subscription(&self, endpoint: &str, auth: &str) -> StoreResult<bool> {
        self.inner.remove_push_subscription(endpoint, auth)
    }

    fn set_push_delivered(&self, delivered: &[(crate::PushSubscriptionId, tryvoha_core::Seq)]) -> StoreResult<()> {
        self.inner.set_push_delivered(delivered)
    }
}

impl crate::LeaseStore for FaultyStore {
    fn take_lease(&self, name: &str, holder: &str, ttl: std::time::Duration) -> StoreResult<bool> {
        self.inner.take_lease(name, holder, ttl)
    }

    fn release_lease(&self, name: &str, holder: &str) -> StoreResult<()> {
        self.inner.release_lease(name, holder)
    }
}

impl crate::ShelterTimeStore for FaultyStore {
    fn shelter_times(&self) -> StoreResult<Vec<(tryvoha_core::RegionId, u32)>> {
        self.inner.shelter_times()
    }

    fn set_shelter_time(&self, region: tryvoha_core::RegionId, seconds: Option<u32>) -> StoreResult<()> {
        self.inner.set_shelter_time(region, seconds)
    }
}

impl crate::IncidentStore for FaultyStore {
    fn incident(&self, id: tryvoha_core::IncidentId) -> StoreResult<Option<tryvoha_core::Incident>> {
        self.inner.incident(id)
    }

    fn incident_for_writer(&self, id: tryvoha_core::IncidentId) -> StoreResult<Option<tryvoha_core::Incident>> {
        self.inner.incident_for_writer(id)
    }

    fn highest_incident_id(&self) -> StoreResult<Option<tryvoha_core::IncidentId>> {
        self.inner.highest_incident_id()
    }

    fn incidents(&self, query: &crate::IncidentQuery) -> StoreResult<Vec<tryvoha_core::Incident>> {
        self.inner.incidents(query)
    }

    fn incident_counts(
        &self,
        from: time::OffsetDateTime,
        to: time::OffsetDateTime,
        public_only: bool,
    ) -> StoreResult<Vec<(tryvoha_core::RegionId, tryvoha_core::IncidentKind, u64)>> {
        self.inner.incident_counts(from, to, public_only)
    }

    fn shelter_statuses(&self) -> StoreResult<Vec<(Seq, tryvoha_core::ShelterStatus)>> {
        self.inner.shelter_statuses()
    }

    fn shelter_events_between(
        &self,
        from: time::OffsetDateTime,
        to: time::OffsetDateTime,
    ) -> StoreResult<Vec<tryvoha_core::ShelterEvent>> {
        self.inner.shelter_events_between(from, to)
    }
}

impl crate::KeyStore for FaultyStore {
    fn cluster_key(&self, name: &str) -> StoreResult<Option<Vec<u8>>> {
        self.inner.cluster_key(name)
    }

    fn offer_cluster_key(&self, name: &str, key: &[u8]) -> StoreResult<Vec<u8>> {
        self.inner.offer_cluster_key(name, key)
    }
}
