//! What CAP 1.2 messages mean for tryvoha, both ways: a received message becomes commands
//! (`receive`: its status and type, its areas as regions, its kind by a documented table,
//! its references as the alerts they created), and an alert becomes the CAP message of its
//! current state (`publish`) and an entry of the Atom feed (`feed`). Rules: docs/cap.md.
//!
//! It does no I/O and knows no transport: the XML is read and written by `tryvoha-cap`, the
//! commands are executed by the engine, and whoever received the message (the HTTP API today)
//! renders a [`Refusal`] in its own way. What needs the store (the alerts a referenced message
//! created) is looked up by the caller, by the keys this crate names.

mod area;
mod feed;
mod meaning;
mod publish;
mod receive;

use time::{Duration, OffsetDateTime};

pub use area::regions_of;
pub use feed::feed;
pub use meaning::{CLOCK_SKEW, check_current, kind_of, level_of, texts, threats_of};
pub use publish::{declaration_identifier, message};
pub use receive::{Declarations, Intent, Planned, follow_up, intent, own_alert, plan_declarations, reference_records};

/// Why a received message changes nothing. `code` is stable (clients match on it), `field`
/// names the part of the message at fault, `detail` says it for a person.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct Refusal {
    pub kind: RefusalKind,
    pub code: &'static str,
    pub field: &'static str,
    pub detail: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefusalKind {
    /// The message is well formed but cannot become (or change) an alert.
    Inapplicable,
    /// The message would change an alert that its sender may not change.
    NotOwner,
}

/// How current a received message must be: `now` by this server's clock, and the oldest `sent`
/// still taken.
#[derive(Clone, Copy, Debug)]
pub struct Freshness {
    pub now: OffsetDateTime,
    pub max_age: Duration,
}

pub(crate) fn refuse(code: &'static str, field: &'static str, detail: &str) -> Refusal {
    Refusal { kind: RefusalKind::Inapplicable, code, field, detail: detail.to_owned() }
}
