//! The subscriptions (kept by the store, indexed by the regions they listen on) and what
//! changes them: subscribing (a new endpoint, or new keys and filter for a known one) and
//! unsubscribing (with the subscription's `auth` as proof).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use time::OffsetDateTime;
use tryvoha_core::{Audience, AudienceIndex, RegionRegistry};
use tryvoha_engine::constant_time_eq;
use tryvoha_store::{PushSubscription, PushSubscriptionId, Store, StoreError};
use tryvoha_webhooks::TargetPolicy;

use crate::progress::Progress;
use crate::subscription::{EndpointPolicy, Refused, SubscriptionRequest};

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("{0}")]
    Refused(Refused),
    #[error("no subscription has this endpoint and auth")]
    NotFound,
    #[error("this server holds as many push subscriptions as it may ({max})")]
    Full { max: usize },
    #[error("the push store is unavailable")]
    Unavailable(#[source] StoreError),
}

/// The subscriptions in memory: by id, and by the regions they listen on.
pub(crate) struct Index {
    pub by_id: HashMap<PushSubscriptionId, Arc<PushSubscription>>,
    pub by_region: AudienceIndex<PushSubscriptionId>,
    by_endpoint: HashMap<String, PushSubscriptionId>,
}

impl Index {
    fn new(registry: &RegionRegistry) -> Index {
        Index {
            by_id: HashMap::new(),
            by_region: AudienceIndex::new(Arc::new(Audience::new(registry))),
            by_endpoint: HashMap::new(),
        }
    }

    pub fn insert(&mut self, subscription: PushSubscription) {
        self.remove(subscription.id);
        self.by_region.insert(subscription.id, &subscription.filter.regions);
        self.by_endpoint.insert(subscription.endpoint.clone(), subscription.id);
        self.by_id.insert(subscription.id, Arc::new(subscription));
    }

    pub fn remove(&mut self, id: PushSubscriptionId) {
        if let Some(old) = self.by_id.remove(&id) {
            self.by_region.remove(id, &old.filter.regions);
            self.by_endpoint.remove(&old.endpoint);
        }
    }
}

pub struct Subscriptions {
    store: Arc<dyn Store>,
    registry: Arc<RegionRegistry>,
    policy: EndpointPolicy,
    /// At most this many subscriptions (`push.max_subscriptions`): memory is not for anyone to
    /// fill, even from many addresses, each within its rate.
    max: usize,
    pub(crate) index: RwLock<Index>,
    pub(crate) progress: Progress,
    /// One change at a time, so that the store and the index change in the same order.
    changing: tokio::sync::Mutex<()>,
    /// Counts this node's changes, so that a read of the store that one overlapped is redone.
    changes: std::sync::atomic::AtomicU64,
}

/// The default of `push.max_subscriptions`: a city of a million phones, ~0.7 KiB of memory each
/// (docs/BENCHMARKS.md).
pub const DEFAULT_MAX: usize = 1_000_000;

/// How long the name in an endpoint may take to resolve when it is checked.
const RESOLVE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

impl Subscriptions {
    pub fn new(store: Arc<dyn Store>, registry: Arc<RegionRegistry>, policy: EndpointPolicy) -> Subscriptions {
        let index = RwLock::new(Index::new(&registry));
        Subscriptions {
            store,
            registry,
            policy,
            max: DEFAULT_MAX,
            index,
            progress: Progress::default(),
            changing: tokio::sync::Mutex::new(()),
            changes: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// At most `max` subscriptions; new endpoints beyond are refused (renewals are not).
    pub fn with_max(self, max: usize) -> Subscriptions {
        Subscriptions { max, ..self }
    }

    pub fn policy(&self) -> &EndpointPolicy {
        &self.policy
    }

    /// Reads every subscription from the store: the index becomes what the store holds (in a
    /// cluster, every node reads again what the other nodes took, every few seconds).
    /// The store is read without holding up changes (a full read of many subscriptions takes
    /// a while); if this node changed one meanwhile, it is read again with changes held.
    pub async fn load(&self) -> Result<usize, PushError> {
        let before = self.changes.load(std::sync::atomic::Ordering::SeqCst);
        let mut stored = self.blocking(|store| store.push_subscriptions()).await?;
        let _turn = self.changing.lock().await;
        if self.changes.load(std::sync::atomic::Ordering::SeqCst) != before {
            stored = self.blocking(|store| store.push_subscriptions()).await?;
        }
        self.progress.load(&stored);
        let mut fresh = Index::new(&self.registry);
        let count = stored.len();
        for subscription in stored {
            fresh.insert(subscription);
        }
        *self.write_index() = fresh;
        Ok(count)
    }

    pub fn len(&self) -> usize {
        self.index.read().unwrap_or_else(std::sync::PoisonError::into_inner).by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Checks the request (fields, then where the endpoint resolves to), then stores it: a new
    /// endpoint, or new keys and filter for one already known. True when it is new.
    pub async fn subscribe(&self, request: SubscriptionRequest) -> Result<(PushSubscription, bool), PushError> {
        let new = request.check(&self.registry, &self.policy, OffsetDateTime::now_utc()).map_err(PushError::Refused)?;
        if !self.policy.allowed(&new.endpoint) {
            // The reason stays in the log: an anonymous caller learns nothing of where names
            // resolve inside the operator's network.
            let public = tokio::time::timeout(RESOLVE_TIMEOUT, TargetPolicy::default().check_url(&new.endpoint)).await;
            if let Err(reason) = public
                .map_err(|_| "did not resolve in time".to_owned())
                .and_then(|r| r.map(|_| ()).map_err(|e| e.to_string()))
            {
                tracing::info!(%reason, "push: an endpoint refused");
                let reason = "must be a push service's https:// URL on a public address".to_owned();
                return Err(PushError::Refused(Refused { field: "subscription.endpoint".into(), reason }));
            }
        }
        let _turn = self.changing.lock().await;
        // A known endpoint changes only with its own auth secret: nobody else can take over a
        // browser's subscription by posting its endpoint with keys of their own.
        match self.find(&new.endpoint) {
            Some(known) if !constant_time_eq(known.auth.as_bytes(), new.auth.as_bytes()) => {
                let reason = "this endpoint is subscribed with another auth secret: unsubscribe it first".to_owned();
                return Err(PushError::Refused(Refused { field: "subscription.keys.auth".into(), reason }));
            }
            // A renewal is never refused for the limit; a new endpoint is, past it.
            None if self.len() >= self.max => return Err(PushError::Full { max: self.max }),
            _ => {}
        }
        if !tryvoha_engine::Handoff::take_current() {
            return Err(PushError::Unavailable(StoreError::Unavailable("the caller gave up waiting".into())));
        }
        self.changes.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let (stored, created) = self.blocking(move |store| store.upsert_push_subscription(&new)).await?;
        self.write_index().insert(stored.clone());
        Ok((stored, created))
    }

    /// Removes the subscription of `endpoint` when `auth` is its secret (what only the browser
    /// that subscribed knows); otherwise it is as if there were none.
    pub async fn unsubscribe(&self, endpoint: &str, auth: &str) -> Result<(), PushError> {
        let endpoint = crate::subscription::normalized(endpoint).ok_or(PushError::NotFound)?;
        let found =
            self.find(&endpoint).filter(|s| constant_time_eq(s.auth.as_bytes(), auth.trim_end_matches('=').as_bytes()));
        let Some(found) = found else { return Err(PushError::NotFound) };
        if !tryvoha_engine::Handoff::take_current() {
            return Err(PushError::Unavailable(StoreError::Unavailable("the caller gave up waiting".into())));
        }
        self.prune(&found).await
    }

    /// The push service said the subscription is gone (404/410): removed.
    /// Only this subscription as it was (its endpoint with these keys): a renewal made since
    /// is left alone.
    pub(crate) async fn prune(&self, subscription: &PushSubscription) -> Result<(), PushError> {
        let _turn = self.changing.lock().await;
        let (endpoint, auth) = (subscription.endpoint.clone(), subscription.auth.clone());
        self.changes.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if self.blocking(move |store| store.remove_push_subscription(&endpoint, &auth)).await? {
            self.write_index().remove(subscription.id);
            self.progress.forget(subscription.id);
        }
        Ok(())
    }

    /// Writes what push services accepted since the last time (see [`Progress`]).
    pub(crate) async fn save_progress(&self) -> Result<(), PushError> {
        let unsaved = self.progress.take_unsaved();
        if unsaved.is_empty() {
            return Ok(());
        }
        let carried = unsaved.clone();
        let saved = self.blocking(move |store| store.set_push_delivered(&carried)).await;
        if saved.is_err() {
            self.progress.restore_unsaved(unsaved);
        }
        saved
    }

    fn find(&self, endpoint: &str) -> Option<Arc<PushSubscription>> {
        let index = self.index.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        index.by_endpoint.get(endpoint).and_then(|id| index.by_id.get(id)).cloned()
    }

    fn write_index(&self) -> std::sync::RwLockWriteGuard<'_, Index> {
        self.index.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, PushError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || work(store.as_ref()))
            .await
            .map_err(|panic| PushError::Unavailable(StoreError::Unavailable(Box::new(panic))))?
            .map_err(PushError::Unavailable)
    }
}
