//! The endpoints: registered, changed, paused and removed through the store, each with a
//! sender task of its own while it is active.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tryvoha_core::RegionId;
use tryvoha_follow::{CursorKeeper, EventSource, LogReader};
use tryvoha_live::{Hub, Signer};
use tryvoha_store::{Paused, Store, StoreError, TokenId, WebhookId, WebhookRecord, WebhookSpec, webhook_consumer};

use crate::attempts::{Attempt, Attempts};
use crate::target::{CheckedResolver, TargetPolicy, TargetRefusal};

/// Connect within 5 s, answer within 10 s: a stuck endpoint costs its own sender that long.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What every sender shares.
pub(crate) struct Context {
    pub source: Arc<dyn EventSource>,
    pub log: Arc<dyn LogReader>,
    pub hub: Arc<Hub>,
    pub signer: Arc<Signer>,
    pub cursors: Arc<CursorKeeper>,
    pub policy: Arc<TargetPolicy>,
    pub https_client: reqwest::Client,
    /// For `http://` targets: connects only into the ranges the operator allowed.
    pub http_client: reqwest::Client,
    pub retry_for: Duration,
    pub attempts: Attempts,
    registry: std::sync::Weak<Webhooks>,
}

impl Context {
    pub(crate) async fn gone(&self, id: WebhookId) {
        if let Some(webhooks) = self.registry.upgrade()
            && let Err(error) = webhooks.remove_stored(id).await
        {
            tracing::warn!(%error, webhook = id, "cannot remove the endpoint that answered 410");
        }
    }

    pub(crate) async fn pause(&self, id: WebhookId, reason: String) {
        if let Some(webhooks) = self.registry.upgrade() {
            let paused = Paused { at: OffsetDateTime::now_utc(), reason };
            if let Err(error) = webhooks.store_paused(id, Some(paused)).await {
                tracing::warn!(%error, webhook = id, "cannot record the pause");
            }
        }
    }
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
    #[error("the webhook store is unavailable")]
    Unavailable(#[source] StoreError),
}

/// The endpoints and their senders.
pub struct Webhooks {
    store: Arc<dyn Store>,
    context: Arc<Context>,
    /// The endpoints as stored, by id.
    records: Mutex<HashMap<WebhookId, WebhookRecord>>,
    /// The running senders' stop signals, by endpoint.
    senders: Mutex<HashMap<WebhookId, CancellationToken>>,
    tasks: TaskTracker,
    stopping: CancellationToken,
    /// One write at a time, so that the store and `records` change in the same order.
    writing: tokio::sync::Mutex<()>,
}

impl Webhooks {
    pub fn new(parts: Parts) -> Result<Arc<Webhooks>, String> {
        let policy = Arc::new(TargetPolicy::new(&parts.allow_private)?);
        let client = |allow_public: bool| {
            crate::ensure_crypto_provider();
            reqwest::Client::builder()
                .dns_resolver(Arc::new(CheckedResolver { policy: policy.clone(), allow_public }))
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(CONNECT_TIMEOUT)
                .timeout(REQUEST_TIMEOUT)
                .pool_max_idle_per_host(2)
                .build()
                .map_err(|error| format!("cannot set up the webhook client: {error}"))
        };
        let (https_client, http_client) = (client(true)?, client(false)?);
        Ok(Arc::new_cyclic(|registry| Webhooks {
            store: parts.store,
            context: Arc::new(Context {
                source: parts.source,
                log: parts.log,
                hub: parts.hub,
                signer: parts.signer,
                cursors: parts.cursors,
                policy,
                https_client,
                http_client,
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

    /// Loads the endpoints and starts a sender for each one not paused.
    pub async fn start(self: &Arc<Webhooks>) -> Result<usize, WebhookError> {
        let records = self.blocking(|store| store.webhooks()).await?;
        let count = records.len();
        for record in records {
            self.remember(record);
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
        self.remember(record.clone());
        Ok(record)
    }

    /// Replaces the spec (checked as at creation); the sender starts again with it, from where
    /// the endpoint's cursor stands.
    pub async fn update(self: &Arc<Webhooks>, id: WebhookId, spec: WebhookSpec) -> Result<WebhookRecord, WebhookError> {
        self.get(id).ok_or(WebhookError::NotFound(id))?;
        self.check(&spec).await?;
        let _turn = self.writing.lock().await;
        let record = self.write(move |store| store.update_webhook(id, &spec)).await.map_err(|e| not_found(e, id))?;
        self.remember(record.clone());
        Ok(record)
    }

    /// Pauses the endpoint, or resumes it from its cursor.
    pub async fn set_paused(self: &Arc<Webhooks>, id: WebhookId, paused: bool) -> Result<WebhookRecord, WebhookError> {
        let record = self.get(id).ok_or(WebhookError::NotFound(id))?;
        if record.paused.is_some() == paused {
            return Ok(record);
        }
        let paused = paused.then(|| Paused { at: OffsetDateTime::now_utc(), reason: "paused by an admin".into() });
        self.store_paused(id, paused).await
    }

    pub async fn remove(&self, id: WebhookId) -> Result<(), WebhookError> {
        self.get(id).ok_or(WebhookError::NotFound(id))?;
        self.remove_stored(id).await
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

    /// `/metrics`: how many endpoints, how many paused and why.
    pub fn render_metrics(&self) -> String {
        use std::fmt::Write;
        let records = self.list();
        let paused: Vec<&WebhookRecord> = records.iter().filter(|r| r.paused.is_some()).collect();
        let mut out = format!(
            "# HELP tryvoha_webhooks Registered webhook endpoints.\n# TYPE tryvoha_webhooks gauge\n\
             tryvoha_webhooks {}\n\
             # HELP tryvoha_webhook_paused A paused endpoint (its reason in the label).\n# TYPE tryvoha_webhook_paused gauge\n",
            records.len()
        );
        for record in paused {
            let reason = record.paused.as_ref().map(|p| p.reason.replace(['"', '\\', '\n'], " ")).unwrap_or_default();
            let _ = writeln!(out, "tryvoha_webhook_paused{{id=\"{}\",reason=\"{reason}\"}} 1", record.id);
        }
        out
    }

    async fn check(&self, spec: &WebhookSpec) -> Result<(), WebhookError> {
        let registry = self.context.hub.registry();
        if let Some((index, region)) = spec.regions.iter().enumerate().find(|(_, id)| registry.get(**id).is_none()) {
            return Err(WebhookError::UnknownRegion { index, region: *region });
        }
        self.context.policy.check_url(&spec.url).await?;
        Ok(())
    }

    async fn store_paused(
        self: &Arc<Webhooks>,
        id: WebhookId,
        paused: Option<Paused>,
    ) -> Result<WebhookRecord, WebhookError> {
        let _turn = self.writing.lock().await;
        let record = self
            .write(move |store| store.set_webhook_paused(id, paused.as_ref()))
            .await
            .map_err(|e| not_found(e, id))?;
        self.remember(record.clone());
        Ok(record)
    }

    async fn remove_stored(&self, id: WebhookId) -> Result<(), WebhookError> {
        let _turn = self.writing.lock().await;
        self.write(move |store| store.remove_webhook(id)).await.map_err(|e| not_found(e, id))?;
        self.stop_sender(id);
        self.lock_records().remove(&id);
        self.context.cursors.forget(&webhook_consumer(id));
        self.context.attempts.forget(id);
        Ok(())
    }

    /// Keeps `record` and (re)starts its sender unless it is paused.
    fn remember(self: &Arc<Webhooks>, record: WebhookRecord) {
        self.stop_sender(record.id);
        if record.paused.is_none() && !self.stopping.is_cancelled() {
            let stop = self.stopping.child_token();
            self.senders.lock().unwrap_or_else(PoisonError::into_inner).insert(record.id, stop.clone());
            self.tasks.spawn(crate::sender::run(self.context.clone(), record.clone(), stop));
        }
        self.lock_records().insert(record.id, record);
    }

    fn stop_sender(&self, id: WebhookId) {
        if let Some(stop) = self.senders.lock().unwrap_or_else(PoisonError::into_inner).remove(&id) {
            stop.cancel();
        }
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
