//! Siren commands, signed, numbered and short-lived (the Dallas 2017 lesson: 156 sirens set off
//! by a replayed radio signal). A command names its siren's region, carries a counter that only
//! grows (the sequence number of the event that caused it), an expiry, and the server's Ed25519
//! signature over all of it; a controller acts on a command only when every check passes.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use tryvoha_core::{AlertBook, AlertEvent, AlertId, AlertKind, AlertStatus, RegionId};
use tryvoha_live::{PublicKey, SignatureError, verify_signed_json};

/// How long a command stays good after the decision that caused it, unless configured.
pub const DEFAULT_COMMAND_TTL: Duration = Duration::minutes(2);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SirenAction {
    Sound,
    Stop,
}

impl SirenAction {
    pub fn as_str(self) -> &'static str {
        match self {
            SirenAction::Sound => "sound",
            SirenAction::Stop => "stop",
        }
    }
}

/// The signed document (the signature is the `sig` member the signer appends).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SirenCommand {
    #[serde(rename = "type")]
    pub kind: String,
    pub region_id: RegionId,
    pub command: SirenAction,
    /// Grows with every command for this siren: a controller refuses one not above the last.
    pub counter: u64,
    /// Only `actual` commands are ever sent; a controller refuses any other.
    pub status: AlertStatus,
    /// The alert that caused it (on `stop`, the one whose end did).
    pub alert_id: AlertId,
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

pub const COMMAND_TYPE: &str = "siren_command";

/// Which sirens an event sets sounding or stops, against the book as it is when the event is
/// published (its state after the event, or later while a publisher catches up).
pub struct Sirens {
    regions: Vec<RegionId>,
    /// What each siren was last told, by region, in this process.
    commanded: std::collections::HashMap<RegionId, SirenAction>,
    ttl: Duration,
}

impl Sirens {
    pub fn new(regions: Vec<RegionId>, ttl: Duration) -> Sirens {
        Sirens { regions, commanded: Default::default(), ttl }
    }

    pub fn is_empty(&self) -> bool {
        self.regions.is_empty()
    }

    /// The commands `event` calls for: a siren sounds while a real air-raid alert covers its
    /// region (on it or an ancestor) and stops when none does. Only a change is commanded;
    /// exercises and tests never command anything.
    ///
    /// The action is the book's, and so are the counter and the time: the book's last sequence
    /// number and its last change. A publisher catching up on an old event (after a lost
    /// session) commands the state as it is now, numbered above anything already sent, never
    /// an old state under an old counter that a controller would refuse as a replay.
    pub fn commands(&mut self, event: &AlertEvent, book: &AlertBook) -> Vec<SirenCommand> {
        let alert = &event.alert;
        if alert.kind != AlertKind::AirRaid || alert.status != AlertStatus::Actual {
            return Vec::new();
        }
        let registry = book.registry();
        let mut commands = Vec::new();
        for &siren in &self.regions {
            if !registry.is_within(siren, alert.region_id) {
                continue;
            }
            let covering = book.active().find(|a| {
                a.kind == AlertKind::AirRaid
                    && a.status == AlertStatus::Actual
                    && registry.is_within(siren, a.region_id)
            });
            let (action, alert_id) = match covering {
                Some(covering) => (SirenAction::Sound, covering.id),
                None => (SirenAction::Stop, alert.id),
            };
            if self.commanded.insert(siren, action) == Some(action) {
                continue;
            }
            let issued_at = book.last_change_at().map_or(event.at, |changed| changed.max(event.at));
            commands.push(SirenCommand {
                kind: COMMAND_TYPE.to_owned(),
                region_id: siren,
                command: action,
                counter: book.last_seq().max(event.seq),
                status: AlertStatus::Actual,
                alert_id,
                issued_at,
                expires_at: issued_at + self.ttl,
            });
        }
        commands
    }
}

/// Why a controller refused a command.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the signature does not verify: {0}")]
    Signature(SignatureError),
    #[error("not a siren command: {0}")]
    Malformed(String),
    #[error("the command is for region {got}, this siren is region {expected}")]
    OtherRegion { expected: RegionId, got: RegionId },
    #[error("the command is {0:?}, not actual: a siren never sounds for a drill or a test")]
    NotActual(AlertStatus),
    #[error("counter {got} is not above the last one acted on ({last}): a replay or an older command")]
    Replayed { last: u64, got: u64 },
    #[error("the command expired at {0}")]
    Expired(OffsetDateTime),
}

/// A controller's checks, with the last counter it acted on.
pub struct SirenGuard {
    region: RegionId,
    keys: Vec<PublicKey>,
    last_counter: Option<u64>,
}

impl SirenGuard {
    pub fn new(region: RegionId, keys: Vec<PublicKey>, last_counter: Option<u64>) -> SirenGuard {
        SirenGuard { region, keys, last_counter }
    }

    pub fn last_counter(&self) -> Option<u64> {
        self.last_counter
    }

    /// Checks `payload` (the signed JSON as received) at `now`; on success it is the newest
    /// command acted on, and any command not above its counter is refused from then on.
    pub fn check(&mut self, payload: &str, now: OffsetDateTime) -> Result<SirenCommand, Refusal> {
        verify_signed_json(payload, &self.keys).map_err(Refusal::Signature)?;
        let command: SirenCommand =
            serde_json::from_str(payload).map_err(|error| Refusal::Malformed(error.to_string()))?;
        if command.kind != COMMAND_TYPE {
            return Err(Refusal::Malformed(format!("type {:?}", command.kind)));
        }
        if command.region_id != self.region {
            return Err(Refusal::OtherRegion { expected: self.region, got: command.region_id });
        }
        if command.status != AlertStatus::Actual {
            return Err(Refusal::NotActual(command.status));
        }
        if let Some(last) = self.last_counter
            && command.counter <= last
        {
            return Err(Refusal::Replayed { last, got: command.counter });
        }
        if now > command.expires_at {
            return Err(Refusal::Expired(command.expires_at));
        }
        self.last_counter = Some(command.counter);
        Ok(command)
    }
}

#[cfg(test)]
mod tests;
