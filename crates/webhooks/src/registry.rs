//! The endpoints: registered, changed, paused and removed through the store, each with a
//! sender task of its own while it is active.
//!
//! One write at a time (`writing`), and each write replaces the endpoint's sender only after
//! the old one has ended, so that no two senders ever serve one endpoint. A sender that settles
//! an endpoint itself (a 410, the retry window spent) does so only while it is still the
//! endpoint's sender: an admin's change made meanwhile wins.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tryvoha_core::RegionId;
use tryvoha_follow::{CursorKeeper, EventSource, LogReader};
use tryvoha_live::{Hub, Signer};
use tryvoha_store::{Paused, Store, StoreError, TokenId, WebhookId, WebhookRecord, WebhookSpec, webhook_consumer};

mod changes;

use crate::attempts::{Attempt, Attempts};
use crate::reach::Reach;
use crate::target::TargetRefusal;

/// What every sender shares.
pub(crate) struct Context {
    pub source: Arc<dyn EventSource>,
    pub log: Arc<dyn LogReader>,
    pub hub: Arc<Hub>,
    pub signer: Arc<Signer>,
    pub cursors: Arc<CursorKeeper>,
    pub reach: Reach,
    pub retry_for: Duration,
    pub attempts: Attempts,
    registry: std::sync::Weak<Webhooks>,
}

impl Context {
    /// The endpoint answered 410 Gone: removed, unless its sender was replaced meanwhile.
    pub(crate) async fn gone(&self, id: WebhookId, sender: &CancellationToken) {
        self.settle(id, sender, || Settlement::Remove).await;
    }

    /// The retry window is spent: paused with `reason`, unless its sender was replaced meanwhile.
    pub(crate) async fn pause(&self, id: WebhookId, reason: String, sender: &CancellationToken) {
        let at = OffsetDateTime::now_utc();
        self.settle(id, sender, || Settlement::Pause(Paused { at, reason: reason.clone() })).await;
    }

    /// Until it is written or the sender is stopped: a store that failed once is tried again, so
    /// that the endpoint never looks active with no sender behind it.
    async fn settle(&self, id: WebhookId, sender: &CancellationToken, settlement: impl Fn() -> Settlement) {
        while let Some(webhooks) = self.registry.upgrade() {
            match webhooks.settle(id, sender, settlement()).await {
                Ok(()) => return,
                Err(error) => tracing::warn!(%error, webhook = id, "cannot settle the endpoint; trying again"),
            }
            drop(webhooks);
            tokio::select! {
                () = sender.cancelled() => return,
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }
}

/// What a sender does to its own endpoint.
pub(crate) enum Settlement {
    Remove,
    Pause(Paused),
}

/// What [`Webhooks::new`] needs.
pub struct Parts {
    pub store: Arc<dyn Store>,
    pub source: Arc<dyn EventSource>,
    pub log: Arc<dyn LogReader>,
    pub hub: Arc<Hub>,
    pub signer: Arc<Signer>,
    pub cursors: Arc<CursorKeeper>,
    pub allow_private: Vec<String>,
    pub retry_for: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("{0}")]
    Target(#[from] TargetRefusal),
    #[error("region {region} (regions[{index}]) is not in the registry")]
    UnknownRegion { index: usize, region: RegionId },
    #[error("no webhook has id {0}")]
    NotFound(WebhookId),
    #[error("this key has no webhook")]
    NoneForKey,
    #[error("the webhook store is unavailable")]
    Unavailable(#[source] StoreError),
}

/// A change to an endpoint: the fields given replace the endpoint's, and a pause or a
/// resumption, in one write. Applied to the endpoint as it is when the change has its turn.
#[derive(Default)]
pub struct Change {
    pub url: Option<String>,
    pub regions: Option<Vec<RegionId>>,
    pub kinds: Option<Vec<tryvoha_core::AlertKind>>,
    pub statuses: Option<Vec<tryvoha_core::AlertStatus>>,
    pub paused: Option<PauseState>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum PauseState {
    Paused,
    Running,
}

/// A running sender: its stop signal and its task, awaited before another takes its place.
struct Running {
    stop: CancellationToken,
    task: JoinHandle<()>,
}

/// Who replaces a sender: an admin's change (the old sender is stopped and waited for) or the
/// sender itself (it ends right after).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Replacing {
    ByChange,
    BySender,
}

/// The endpoints and their senders.
pub struct Webhooks {
    store: Arc<dyn Store>,
    context: Arc<Context>,
    /// The endpoints as stored, by id.
    records: Mutex<HashMap<WebhookId, WebhookRecord>>,
    senders: Mutex<HashMap<WebhookId, Running>>,
    tasks: TaskTracker,
    stopping: CancellationToken,
    /// Whether this node sends (it holds the webhooks' lease, `lead`); a node that does not
    /// keeps the endpoints and changes them, and every node reads them again (`reload`).
    sending: std::sync::atomic::AtomicBool,
    /// One write at a time, so that the store, `records` and the senders change in one order.
    writing: tokio::sync::Mutex<()>,
}

impl Webhooks {
    pub fn new(parts: Parts) -> Result<Arc<Webhooks>, String> {
        let reach = Reach::new(&parts.allow_private)?;
        Ok(Arc::new_cyclic(|registry| Webhooks {
            store: parts.store,
            context: Arc::new(Context {
                source: parts.source,
                log: parts.log,
                hub: parts.hub,
                signer: parts.signer,
                cursors: parts.cursors,
                reach,
                retry_for: parts.retry_for,
                attempts: Attempts::default(),
                registry: registry.clone(),
            }),
            records: Mutex::default(),
            senders: Mutex::default(),
            tasks: TaskTracker::new(),
            stopping: CancellationToken::new(),
            sending: std::sync::atomic::AtomicBool::new(false),
            writing: tokio::sync::Mutex::new(()),
        }))
    }

    /// Loads the endpoints (and where each stands); senders start when this node leads.
    pub async fn start(self: &Arc<Webhooks>) -> Result<usize, WebhookError> {
        self.reload_with(false).await
    }

    /// This node sends from now on (it took the webhooks' lease): the endpoints are read again
    /// and each one not paused gets a sender, from its cursor in the store.
    pub async fn lead(self: &Arc<Webhooks>) -> Result<usize, WebhookError> {
        self.reload_with(true).await
    }

    /// This node stops sending (it lost or gave up the lease): every sender ends, and their
    /// cursors stay where the far sides acknowledged.
    pub async fn follow(&self) {
        let _turn = self.writing.lock().await;
        self.sending.store(false, std::sync::atomic::Ordering::SeqCst);
        let ids: Vec<WebhookId> = self.lock_senders().keys().copied().collect();
        for id in ids {
            self.end_sender(id, Replacing::ByChange).await;
        }
        // What the far sides acknowledged is written; then the cursors are the next sending
        // node's, read again from the store when this node leads again.
        if let Err(error) = self.context.cursors.flush().await {
            tracing::warn!(%error, "cannot write the webhook cursors; their last deliveries will repeat");
        }
        let ids: Vec<WebhookId> = self.lock_records().keys().copied().collect();
        for id in ids {
            self.context.cursors.forget(&webhook_consumer(id));
        }
    }

    /// Reads the endpoints again: what other nodes of a cluster registered, changed, paused or
    /// removed reaches this node (and its senders, if it sends).
    pub async fn reload(self: &Arc<Webhooks>) -> Result<usize, WebhookError> {
        self.reload_with(false).await
    }

    /// With `lead`, this node starts sending: every endpoint gets a sender anew, not only those
    /// that changed. The store is read with the turn to write held, so that a change made
    /// meanwhile (a removal, a pause) is never undone by an older read.
    async fn reload_with(self: &Arc<Webhooks>, lead: bool) -> Result<usize, WebhookError> {
        let _turn = self.writing.lock().await;
        let records = self.blocking(|store| store.webhooks()).await?;
        let count = records.len();
        if lead {
            self.sending.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        let kept: std::collections::HashSet<WebhookId> = records.iter().map(|record| record.id).collect();
        let gone: Vec<WebhookId> = self.lock_records().keys().filter(|id| !kept.contains(id)).copied().collect();
        for id in gone {
            self.forget(id, Replacing::ByChange).await;
        }
        for record in records {
            let known = self.lock_records().get(&record.id) == Some(&record);
            if known && !lead {
                continue;
            }
            if self.sending.load(std::sync::atomic::Ordering::SeqCst) {
                if lead {
                    // Another node may have sent since this one last did: its cursor is read anew.
                    self.context.cursors.forget(&webhook_consumer(record.id));
                }
                // So that a paused endpoint says where it stands too; a sender loads it anyway.
                if let Err(error) = self.context.cursors.load(&webhook_consumer(record.id)).await {
                    tracing::warn!(%error, webhook = record.id, "cannot read the endpoint's cursor yet");
                }
            }
            self.replace_sender(record, Replacing::ByChange).await;
        }
        Ok(count)
    }

    pub fn list(&self) -> Vec<WebhookRecord> {
        // (Writes: `changes`.)
        let mut records: Vec<WebhookRecord> = self.lock_records().values().cloned().collect();
        records.sort_by_key(|r| r.id);
        records
    }

    pub fn get(&self, id: WebhookId) -> Option<WebhookRecord> {
        self.lock_records().get(&id).cloned()
    }

    /// The endpoint registered through the ukrainealarm-compatible API by `owner`.
    pub fn owned_by(&self, owner: TokenId) -> Option<WebhookRecord> {
        self.list().into_iter().find(|record| record.spec.owner == Some(owner))
    }

    /// One test delivery now, outside the log: a signed `{"type": "test"}` document.
    pub async fn test(&self, id: WebhookId) -> Result<Attempt, WebhookError> {
        let record = self.get(id).ok_or(WebhookError::NotFound(id))?;
        let document = serde_json::json!({
            "type": "test",
            "webhook_id": id,
            "at": OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        });
        let body = self.context.signer.sign_json(&document);
        let started = std::time::Instant::now();
        let answer = crate::sender::send(&self.context, &record, 0, &body).await;
        let attempt = Attempt {
            seq: 0,
            at: OffsetDateTime::now_utc(),
            status: answer.status,
            latency_ms: started.elapsed().as_secs_f64() * 1e3,
            error: answer.error,
        };
        self.context.attempts.record(id, attempt.clone());
        Ok(attempt)
    }

    pub fn deliveries(&self, id: WebhookId) -> Option<Vec<Attempt>> {
        self.get(id).map(|_| self.context.attempts.recent(id))
    }

    /// The last event the endpoint's far side has (what its cursor will be written as); before
    /// its sender has read the cursor (just after a start, or on a node that does not send),
    /// the cursor as stored.
    pub async fn acknowledged(&self, id: WebhookId) -> Option<u64> {
        let consumer = webhook_consumer(id);
        if let Some(seq) = self.context.cursors.acknowledged(&consumer) {
            return Some(seq);
        }
        self.blocking(move |store| store.stored_cursor(&consumer)).await.ok().flatten()
    }

    /// Stops every sender and waits for them (a delivery in flight is abandoned, to be made
    /// again after a restart: at least once).
    pub async fn stop(&self, deadline: Duration) {
        self.stopping.cancel();
        self.tasks.close();
        if tokio::time::timeout(deadline, self.tasks.wait()).await.is_err() {
            tracing::warn!("webhook senders did not stop in time");
        }
    }

    /// `/metrics`: how many endpoints, and which are paused (why is for the admin API: `/metrics`
    /// is public, and a reason names hosts).
    pub fn render_metrics(&self) -> String {
        use std::fmt::Write;
        let records = self.list();
        let paused: Vec<&WebhookRecord> = records.iter().filter(|r| r.paused.is_some()).collect();
        let mut out = format!(
            "# HELP tryvoha_webhooks Registered webhook endpoints.\n# TYPE tryvoha_webhooks gauge\n\
             tryvoha_webhooks {}\n\
             # HELP tryvoha_webhook_paused A paused endpoint (its reason: GET /api/v1/webhooks/{{id}}).\n\
             # TYPE tryvoha_webhook_paused gauge\n",
            records.len()
        );
        for record in paused {
            let _ = writeln!(out, "tryvoha_webhook_paused{{id=\"{}\"}} 1", record.id);
        }
        out
    }

    pub(crate) async fn check(&self, spec: &WebhookSpec) -> Result<(), WebhookError> {
        let registry = self.context.hub.registry();
        if let Some((index, region)) = spec.regions.iter().enumerate().find(|(_, id)| registry.get(**id).is_none()) {
            return Err(WebhookError::UnknownRegion { index, region: *region });
        }
        self.context.reach.policy(spec.may_reach_private).check_url(&spec.url).await?;
        Ok(())
    }

    /// Keeps `record` and gives it a sender unless it is paused, once the old sender (if any)
    /// has ended. Called with the turn to write held.
    pub(crate) async fn replace_sender(&self, record: WebhookRecord, replacing: Replacing) {
        self.end_sender(record.id, replacing).await;
        let sending = self.sending.load(std::sync::atomic::Ordering::SeqCst);
        if sending && record.paused.is_none() && !self.stopping.is_cancelled() {
            let stop = self.stopping.child_token();
            let task = self.tasks.spawn(crate::sender::run(self.context.clone(), record.clone(), stop.clone()));
            self.lock_senders().insert(record.id, Running { stop, task });
        }
        self.lock_records().insert(record.id, record);
    }

    pub(crate) async fn forget(&self, id: WebhookId, replacing: Replacing) {
        self.end_sender(id, replacing).await;
        self.lock_records().remove(&id);
        self.context.cursors.forget(&webhook_consumer(id));
        self.context.attempts.forget(id);
    }

    /// Stops the endpoint's sender and, unless it is the caller, waits until it has ended.
    pub(crate) async fn end_sender(&self, id: WebhookId, replacing: Replacing) {
        let Some(running) = self.lock_senders().remove(&id) else { return };
        running.stop.cancel();
        if replacing == Replacing::ByChange {
            let _ = running.task.await;
        }
    }

    fn lock_senders(&self) -> std::sync::MutexGuard<'_, HashMap<WebhookId, Running>> {
        self.senders.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn lock_records(&self) -> std::sync::MutexGuard<'_, HashMap<WebhookId, WebhookRecord>> {
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, WebhookError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || work(store.as_ref()))
            .await
            .map_err(|panic| WebhookError::Unavailable(StoreError::Unavailable(Box::new(panic))))?
            .map_err(WebhookError::Unavailable)
    }
}
