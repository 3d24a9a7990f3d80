//! Webhook endpoints as the store keeps them. The secret is kept as it is: each delivery is
//! signed with it (HMAC), so unlike a token's it cannot be kept as a hash.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tryvoha_core::{AlertKind, AlertStatus, EventFamily, RegionId};

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
    /// The kinds of event delivered (`alerts`, `incidents`, `shelters`): alerts only when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<EventFamily>,
    pub format: WebhookFormat,
    /// The token that registered it through the ukrainealarm-compatible API (one per token).
    pub owner: Option<TokenId>,
    /// Whether it may reach the private ranges the operator allows (`webhooks.allow_private`):
    /// an admin's endpoints may, an endpoint a reader's key registered may not.
    #[serde(default = "admins_may")]
    pub may_reach_private: bool,
}

fn admins_may() -> bool {
    true
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

#[derive(Clone, PartialEq, Eq)]
pub struct WebhookRecord {
    pub id: WebhookId,
    pub spec: WebhookSpec,
    pub secret: String,
    pub created_at: OffsetDateTime,
    /// Set when deliveries stopped (retried for too long); cleared to resume.
    pub paused: Option<Paused>,
}

/// Never prints the secret.
impl std::fmt::Debug for WebhookRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookRecord")
            .field("id", &self.id)
            .field("spec", &self.spec)
            .field("created_at", &self.created_at)
            .field("paused", &self.paused)
            .finish_non_exhaustive()
    }
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
    /// Replaces the endpoint's spec and pause together, in one write (a change of both is never
    /// half applied); [`crate::StoreError::NotFound`] when there is none.
    fn update_webhook(
        &self,
        id: WebhookId,
        spec: &WebhookSpec,
        paused: Option<&Paused>,
    ) -> crate::StoreResult<WebhookRecord>;
    /// Removes the endpoint and its cursor, in one transaction.
    fn remove_webhook(&self, id: WebhookId) -> crate::StoreResult<()>;
}
