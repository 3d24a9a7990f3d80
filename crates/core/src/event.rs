//! The events the log records. Each carries the alert as it stood after the event, so that a
//! reader of the log never has to replay history to know what an alert looked like.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::access::Actor;
use crate::alert::Alert;

/// A position in the global event log: gap-free, starting at 1, in commit order.
pub type Seq = u64;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    Declared,
    Updated,
    Cancelled,
    Expired,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Declared => "declared",
            EventType::Updated => "updated",
            EventType::Cancelled => "cancelled",
            EventType::Expired => "expired",
        }
    }
}

/// An event decided by the domain but not yet written: it has no sequence number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventDraft {
    pub kind: EventType,
    pub at: OffsetDateTime,
    pub actor: Actor,
    pub alert: Alert,
}

impl EventDraft {
    /// Gives the draft its place in the log; the alert records that place as its latest `seq`.
    pub fn into_event(self, seq: Seq) -> AlertEvent {
        let mut alert = self.alert;
        alert.seq = seq;
        AlertEvent { seq, kind: self.kind, at: self.at, actor: self.actor, alert }
    }
}

/// An event in the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(description = "An event in the log, carrying the alert as it stood after the event.")
)]
pub struct AlertEvent {
    /// Position in the log: gap-free, starting at 1, in commit order.
    #[cfg_attr(feature = "openapi", schema(value_type = u64, minimum = 1))]
    pub seq: Seq,
    #[serde(rename = "type")]
    pub kind: EventType,
    /// When the event happened.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor: Actor,
    pub alert: Alert,
}
