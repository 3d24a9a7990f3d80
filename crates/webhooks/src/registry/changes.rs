//! Writes to the endpoints: create, change, subscribe (one per key), remove, and a sender
//! settling its own endpoint.
//!
//! Each write is checked first, then takes the request's handoff (a request already answered
//! 408 writes nothing), then runs to the end in a task of its own: a client that goes away
//! mid-write cannot leave the store changed and the senders not. Inside, the turn to write is
//! held from the store's write until the endpoint's new sender has started.

use std::future::Future;
use std::sync::Arc;

use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use tryvoha_store::{Paused, StoreError, TokenId, WebhookId, WebhookRecord, WebhookSpec, webhook_consumer};

use super::{Change, PauseState, Replacing, Settlement, WebhookError, Webhooks};

impl Webhooks {
    /// Checks the target and the regions, then stores the endpoint (at the log's head) with a
    /// new secret, and starts its sender. Nothing is stored when a check fails.
    pub async fn create(self: &Arc<Webhooks>, spec: WebhookSpec) -> Result<WebhookRecord, WebhookError> {
        self.check(&spec).await?;
        self.detached(|this| async move {
            let _turn = this.writing.lock().await;
            this.insert(spec).await
        })
        .await
    }

    /// The fields given replace the endpoint's (checked as at creation), with a pause or a
    /// resumption, in one write; the sender starts again from the endpoint's cursor. Nothing
    /// changes when a check fails.
    pub async fn change(self: &Arc<Webhooks>, id: WebhookId, change: Change) -> Result<WebhookRecord, WebhookError> {
        self.get(id).ok_or(WebhookError::NotFound(id))?;
        self.detached(move |this| async move {
            let _turn = this.writing.lock().await;
            // The endpoint as it is now that this change has the turn: two changes at once
            // each keep the other's fields.
            let current = this.get(id).ok_or(WebhookError::NotFound(id))?;
            let spec = WebhookSpec {
                url: change.url.unwrap_or_else(|| current.spec.url.clone()),
                regions: change.regions.unwrap_or_else(|| current.spec.regions.clone()),
                kinds: change.kinds.unwrap_or_else(|| current.spec.kinds.clone()),
                statuses: change.statuses.unwrap_or_else(|| current.spec.statuses.clone()),
                ..current.spec.clone()
            };
            if spec != current.spec {
                this.check(&spec).await?;
            }
            this.update(current, spec, change.paused).await
        })
        .await
    }

    /// ukrainealarm's one endpoint per key: `spec` (owned by `owner`) replaces the key's endpoint
    /// and resumes it, or is created.
    pub async fn subscribe_owned(
        self: &Arc<Webhooks>,
        owner: TokenId,
        spec: WebhookSpec,
    ) -> Result<WebhookRecord, WebhookError> {
        self.check(&spec).await?;
        self.detached(move |this| async move {
            let _turn = this.writing.lock().await;
            match this.owned_by(owner) {
                Some(current) => this.update(current, spec, Some(PauseState::Running)).await,
                None => this.insert(spec).await,
            }
        })
        .await
    }

    pub async fn remove(self: &Arc<Webhooks>, id: WebhookId) -> Result<(), WebhookError> {
        self.get(id).ok_or(WebhookError::NotFound(id))?;
        self.detached(move |this| async move {
            let _turn = this.writing.lock().await;
            this.get(id).ok_or(WebhookError::NotFound(id))?;
            this.delete(id, Replacing::ByChange).await
        })
        .await
    }

    /// Every endpoint `owner`'s key registered (its token was revoked).
    pub async fn remove_owned(self: &Arc<Webhooks>, owner: TokenId) -> Result<usize, WebhookError> {
        self.detached(move |this| async move {
            let _turn = this.writing.lock().await;
            let owned: Vec<WebhookId> =
                this.list().into_iter().filter(|r| r.spec.owner == Some(owner)).map(|r| r.id).collect();
            for &id in &owned {
                this.delete(id, Replacing::ByChange).await?;
            }
            Ok(owned.len())
        })
        .await
    }

    /// A sender settles its own endpoint, if it is still the endpoint's sender once it has the
    /// turn to write (an admin's change or removal made meanwhile stopped it, and wins).
    pub(crate) async fn settle(
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
            Settlement::Remove => self.delete(id, Replacing::BySender).await,
            Settlement::Pause(paused) => {
                let spec = self.get(id).ok_or(WebhookError::NotFound(id))?.spec;
                let record = self
                    .blocking(move |store| store.update_webhook(id, &spec, Some(&paused)))
                    .await
                    .map_err(|e| not_found(e, id))?;
                // Paused: no sender takes its place (and none is spawned from here, which would
                // make the sender's future contain itself).
                self.end_sender(id, Replacing::BySender).await;
                self.lock_records().insert(id, record);
                Ok(())
            }
        }
    }

    /// Runs `work` to its end whatever happens to the caller, once the request's handoff is
    /// taken (a request answered 408 writes nothing).
    async fn detached<T, F>(self: &Arc<Webhooks>, work: impl FnOnce(Arc<Webhooks>) -> F) -> Result<T, WebhookError>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, WebhookError>> + Send + 'static,
    {
        if !tryvoha_engine::Handoff::take_current() {
            return Err(WebhookError::Unavailable(StoreError::Unavailable("the caller gave up waiting".into())));
        }
        self.tasks
            .spawn(work(self.clone()))
            .await
            .map_err(|panic| WebhookError::Unavailable(StoreError::Unavailable(Box::new(panic))))?
    }

    /// With the turn held: stores a new endpoint and starts its sender.
    async fn insert(&self, spec: WebhookSpec) -> Result<WebhookRecord, WebhookError> {
        let secret = crate::signature::new_secret();
        let record =
            self.blocking(move |store| store.create_webhook(&spec, &secret, OffsetDateTime::now_utc())).await?;
        // The row and its cursor are stored: from here nothing fails. A cursor the keeper cannot
        // load now is loaded by the sender, which tries until it can.
        if let Err(error) = self.context.cursors.load(&webhook_consumer(record.id)).await {
            tracing::warn!(%error, webhook = record.id, "cannot read the new endpoint's cursor yet");
        }
        self.replace_sender(record.clone(), Replacing::ByChange).await;
        Ok(record)
    }

    /// With the turn held: the spec and the pause in one write, then the sender replaced.
    async fn update(
        &self,
        current: WebhookRecord,
        spec: WebhookSpec,
        paused: Option<PauseState>,
    ) -> Result<WebhookRecord, WebhookError> {
        let id = current.id;
        let paused = match paused {
            None => current.paused,
            Some(PauseState::Running) => None,
            Some(PauseState::Paused) => current
                .paused
                .or_else(|| Some(Paused { at: OffsetDateTime::now_utc(), reason: "paused by an admin".into() })),
        };
        let record = self
            .blocking(move |store| store.update_webhook(id, &spec, paused.as_ref()))
            .await
            .map_err(|e| not_found(e, id))?;
        self.replace_sender(record.clone(), Replacing::ByChange).await;
        Ok(record)
    }

    /// With the turn held: the row and its cursor removed, then the sender ended.
    async fn delete(&self, id: WebhookId, replacing: Replacing) -> Result<(), WebhookError> {
        self.blocking(move |store| store.remove_webhook(id)).await.map_err(|e| not_found(e, id))?;
        self.forget(id, replacing).await;
        Ok(())
    }
}

fn not_found(error: WebhookError, id: WebhookId) -> WebhookError {
    match error {
        WebhookError::Unavailable(StoreError::NotFound) => WebhookError::NotFound(id),
        other => other,
    }
}
