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
        if let Some(webhooks) = self.registry.upgrade()
            && let Err(error) = webhooks.settle(id, sender, Settlement::Remove).await
        {
            tracing::warn!(%error, webhook = id, "cannot remove the endpoint that answered 410");
        }
    }

    /// The retry window is spent: paused with `reason`, unless its sender was replaced meanwhile.
    pub(crate) async fn pause(&self, id: WebhookId, reason: String, sender: &CancellationToken) {
        if let Some(webhooks) = self.registry.upgrade() {
            let paused = Paused { at: OffsetDateTime::now_utc(), reason };
            if let Err(error) = webhooks.settle(id, sender, Settlement::Pause(paused)).await {
                tracing::warn!(%error, webhook = id, "cannot record the pause");
            }
        }
    }
}

/// What a sender does to its own endpoint.
enum Settlement {
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

/// A change to an endpoint: a new spec, a pause or a resumption, or both at once.
#[derive(Default)]
pub struct Change {
    pub spec: Option<WebhookSpec>,
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
enum Replacing {
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
            writing: tokio::sync::Mutex::new(()),
        }))
    }

    /// Loads the endpoints (and where each stands) and starts a sender for each one not paused.
    pub async fn start(self: &Arc<Webhooks>) -> Result<usize, WebhookError> {
        let records = self.blocking(|store| store.webhooks()).await?;
        let count = records.len();
        let _turn = self.writing.lock().await;
        for record in records {
            self.context.cursors.load(&webhook_consumer(record.id)).await.map_err(WebhookError::Unavailable)?;
            self.replace_sender(record, Replacing::ByChange).await;
        }
        Ok(count)
    }

    pub fn list(&self) -> Vec<WebhookRecord> {
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

    /// Checks the target and the regions, then stores the endpoint (at the log's head) with a
    /// new secret, and starts its sender. Nothing is stored when a check fails.
    pub async fn create(self: &Arc<Webhooks>, spec: WebhookSpec) -> Result<WebhookRecord, WebhookError> {
        self.check(&spec).await?;
        let _turn = self.writing.lock().await;
        let secret = crate::signature::new_secret();
        let record = self.write(move |store| store.create_webhook(&spec, &secret, OffsetDateTime::now_utc())).await?;
        self.context.cursors.load(&webhook_consumer(record.id)).await.map_err(WebhookError::Unavailable)?;
        self.replace_sender(record.clone(), Replacing::ByChange).await;
        Ok(record)
    }

    /// A new spec (checked as at creation) and/or a pause or resumption, in one write; the
    /// sender starts again from where the endpoint's cursor stands. Nothing changes when a
    /// check fails.
    pub async fn change(self: &Arc<Webhooks>, id: WebhookId, change: Change) -> Result<WebhookRecord, WebhookError> {
        self.get(id).ok_or(WebhookError::NotFound(id))?;
        if let Some(spec) = &change.spec {
            self.check(spec).await?;
        }
        let _turn = self.writing.lock().await;
        // As it is now that this change has the turn (a sender may have paused it meanwhile).
        let current = self.get(id).ok_or(WebhookError::NotFound(id))?;
        let spec = change.spec.unwrap_or_else(|| current.spec.clone());
        let paused = match change.paused {
            None => current.paused.clone(),
            Some(PauseState::Running) => None,
            Some(PauseState::Paused) => current
                .paused
                .clone()
                .or_else(|| Some(Paused { at: OffsetDateTime::now_utc(), reason: "paused by an admin".into() })),
        };
        let record = self
            .write(move |store| store.update_webhook(id, &spec, paused.as_ref()))
            .await
            .map_err(|e| not_found(e, id))?;
        self.replace_sender(record.clone(), Replacing::ByChange).await;
        Ok(record)
    }

    pub async fn remove(&self, id: WebhookId) -> Result<(), WebhookError> {
        let _turn = self.writing.lock().await;
        self.get(id).ok_or(WebhookError::NotFound(id))?;
        self.write(move |store| store.remove_webhook(id)).await.map_err(|e| not_found(e, id))?;
        self.forget(id, Replacing::ByChange).await;
        Ok(())
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

    /// The last event the endpoint's far side has (what its cursor will be written as).
    pub fn acknowledged(&self, id: WebhookId) -> Option<u64> {
        self.context.cursors.acknowledged(&webhook_consumer(id))
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

    async fn check(&self, spec: &WebhookSpec) -> Result<(), WebhookError> {
        let registry = self.context.hub.registry();
        if let Some((index, region)) = spec.regions.iter().enumerate().find(|(_, id)| registry.get(**id).is_none()) {
            return Err(WebhookError::UnknownRegion { index, region: *region });
        }
        self.context.reach.policy(spec.may_reach_private).check_url(&spec.url).await?;
        Ok(())
    }

    /// A sender settles its own endpoint, if it is still the endpoint's sender once it has the
    /// turn to write (an admin's change or removal made meanwhile stopped it, and wins).
    async fn settle(
        &self,
        id: WebhookId,
        sender: &CancellationToken,
        settlement: Settlement,
    ) -> Result<(), WebhookError> {
        let _turn = tokio::select! {
            turn = self.writing.lock() => turn,
            () = sender.cancelled() => return Ok(()),
        };
        if sender.is_cancelled() {
            return Ok(());
        }
        match settlement {
            Settlement::Remove => {
                self.write_unconditionally(move |store| store.remove_webhook(id))
                    .await
                    .map_err(|e| not_found(e, id))?;
                self.forget(id, Replacing::BySender).await;
            }
            Settlement::Pause(paused) => {
                let spec = self.get(id).ok_or(WebhookError::NotFound(id))?.spec;
                let record = self
                    .write_unconditionally(move |store| store.update_webhook(id, &spec, Some(&paused)))
                    .await
                    .map_err(|e| not_found(e, id))?;
                // Paused: no sender takes its place (and none is spawned from here, which would
                // make the sender's future contain itself).
                self.end_sender(id, Replacing::BySender).await;
                self.lock_records().insert(id, record);
            }
        }
        Ok(())
    }

    /// Keeps `record` and gives it a sender unless it is paused, once the old sender (if any)
    /// has ended. Called with the turn to write held.
    async fn replace_sender(&self, record: WebhookRecord, replacing: Replacing) {
        self.end_sender(record.id, replacing).await;
        if record.paused.is_none() && !self.stopping.is_cancelled() {
            let stop = self.stopping.child_token();
            let task = self.tasks.spawn(crate::sender::run(self.context.clone(), record.clone(), stop.clone()));
            self.lock_senders().insert(record.id, Running { stop, task });
        }
        self.lock_records().insert(record.id, record);
    }

    async fn forget(&self, id: WebhookId, replacing: Replacing) {
        self.end_sender(id, replacing).await;
        self.lock_records().remove(&id);
        self.context.cursors.forget(&webhook_consumer(id));
        self.context.attempts.forget(id);
    }

    /// Stops the endpoint's sender and, unless it is the caller, waits until it has ended.
    async fn end_sender(&self, id: WebhookId, replacing: Replacing) {
        let Some(running) = self.lock_senders().remove(&id) else { return };
        running.stop.cancel();
        if replacing == Replacing::ByChange {
            let _ = running.task.await;
        }
    }

    fn lock_senders(&self) -> std::sync::MutexGuard<'_, HashMap<WebhookId, Running>> {
        self.senders.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_records(&self) -> std::sync::MutexGuard<'_, HashMap<WebhookId, WebhookRecord>> {
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A write beside the engine's writer honours the request's time limit as a command does:
    /// once taken it is applied and answered; a request already answered 408 writes nothing.
    async fn write<T: Send + 'static>(
        &self,
        change: impl FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, WebhookError> {
        if !tryvoha_engine::Handoff::take_current() {
            return Err(WebhookError::Unavailable(StoreError::Unavailable("the caller gave up waiting".into())));
        }
        self.blocking(change).await
    }

    /// A sender's own write: no request, no time limit to honour.
    async fn write_unconditionally<T: Send + 'static>(
        &self,
        change: impl FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, WebhookError> {
        self.blocking(change).await
    }

    async fn blocking<T: Send + 'static>(
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

fn not_found(error: WebhookError, id: WebhookId) -> WebhookError {
    match error {
        WebhookError::Unavailable(StoreError::NotFound) => WebhookError::NotFound(id),
        other => other,
    }
}
