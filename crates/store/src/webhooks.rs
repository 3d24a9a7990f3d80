//! Webhook endpoints as the store keeps them. The secret is kept as it is: each delivery is
//! signed with it (HMAC), so unlike a token's it cannot be kept as a hash.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tryvoha_core::{AlertKind, AlertStatus, RegionId};

use crate::record::TokenId;

pub type WebhookId = u64;

/// What an endpoint receives: where, which events, in which shape.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookSpec {
    pub url: String,
    /// Events on these regions, their ancestors and descendants; every region when empty.
    pub regions: Vec<RegionId>,
    /// Every kind when empty.
    pub kinds: Vec<AlertKind>,
    /// Every status when empty.
    pub statuses: Vec<AlertStatus>,
    pub format: WebhookFormat,
    /// The token that registered it through the ukrainealarm-compatible API (one per token).
    pub owner: Option<TokenId>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookFormat {
    /// The event's signed frame, as on the streams.
    #[default]
    Tryvoha,
    /// The body ukrainealarm's webhooks send (docs/compat.md).
    Ukrainealarm,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookRecord {
    pub id: WebhookId,
    pub spec: WebhookSpec,
    pub secret: String,
    pub created_at: OffsetDateTime,
    /// Set when deliveries stopped (retried for too long); cleared to resume.
    pub paused: Option<Paused>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paused {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub reason: String,
}

/// The cursor an endpoint's deliveries keep (`CursorStore`).
pub fn webhook_consumer(id: WebhookId) -> String {
    format!("webhook:{id}")
}

pub trait WebhookStore: Send + Sync {
    /// Stores a new endpoint and starts its cursor ([`webhook_consumer`]) at the log's head, in
    /// one transaction: it receives the events committed from then on.
    fn create_webhook(
        &self,
        spec: &WebhookSpec,
        secret: &str,
        created_at: OffsetDateTime,
    ) -> crate::StoreResult<WebhookRecord>;
    /// Every endpoint, by id.
    fn webhooks(&self) -> crate::StoreResult<Vec<WebhookRecord>>;
    /// Replaces the endpoint's spec; [`crate::StoreError::NotFound`] when there is none.
    fn update_webhook(&self, id: WebhookId, spec: &WebhookSpec) -> crate::StoreResult<WebhookRecord>;
    fn set_webhook_paused(&self, id: WebhookId, paused: Option<&Paused>) -> crate::StoreResult<WebhookRecord>;
    /// Removes the endpoint and its cursor, in one transaction.
    fn remove_webhook(&self, id: WebhookId) -> crate::StoreResult<()>;
}
