//! The topic names and what is published on each (docs/mqtt.md).
//!
//! Everything under one prefix, versioned like the HTTP API:
//! - `{prefix}/status`: `online` (retained), `offline` as the last will;
//! - `{prefix}/v1/regions/{id}/state`: retained, the region's state from real alerts only;
//! - `{prefix}/v1/regions/{id}/kinds/{kind}`: retained, `ON`/`OFF` per alert kind (the Home
//!   Assistant sensors' state, published for the regions discovery was asked for);
//! - `{prefix}/v1/events`: every alert event's signed frame, not retained;
//! - `{prefix}/v1/incidents`: every public incident event's signed frame, not retained (an
//!   incident that is not public is never published);
//! - `{prefix}/v1/shelters/{id}/status`: retained, a shelter's latest status event, signed;
//! - `{prefix}/v1/iot/oblasts`, `{prefix}/v2/iot/oblasts`: retained alerts.in.ua oblast strings;
//! - `{prefix}/v1/sirens/{id}/command`: retained, signed siren commands.

use serde::Serialize;
use time::OffsetDateTime;
use tryvoha_core::{Alert, AlertBook, AlertId, AlertKind, AlertLevel, AlertStatus, RegionId, RegionState, Seq, Threat};

#[derive(Clone, Debug)]
pub struct Topics {
    prefix: String,
}

impl Topics {
    pub fn new(prefix: &str) -> Topics {
        Topics { prefix: prefix.trim_end_matches('/').to_owned() }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn status(&self) -> String {
        format!("{}/status", self.prefix)
    }

    pub fn region_state(&self, region: RegionId) -> String {
        format!("{}/v1/regions/{}/state", self.prefix, region.0)
    }

    pub fn region_kind(&self, region: RegionId, kind: AlertKind) -> String {
        format!("{}/v1/regions/{}/kinds/{}", self.prefix, region.0, kind.as_str())
    }

    pub fn events(&self) -> String {
        format!("{}/v1/events", self.prefix)
    }

    pub fn incidents(&self) -> String {
        format!("{}/v1/incidents", self.prefix)
    }

    pub fn shelter_status(&self, shelter: tryvoha_core::ShelterId) -> String {
        format!("{}/v1/shelters/{}/status", self.prefix, shelter.0)
    }

    pub fn iot_oblasts(&self, version: u8) -> String {
        format!("{}/v{version}/iot/oblasts", self.prefix)
    }

    pub fn siren_command(&self, region: RegionId) -> String {
        format!("{}/v1/sirens/{}/command", self.prefix, region.0)
    }
}

/// A real alert as a region's state lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StateAlert {
    pub id: AlertId,
    pub region_id: RegionId,
    pub kind: AlertKind,
    pub level: AlertLevel,
    pub threats: Vec<Threat>,
    #[serde(with = "time::serde::rfc3339")]
    pub since: OffsetDateTime,
}

impl StateAlert {
    fn of(alert: &Alert) -> StateAlert {
        StateAlert {
            id: alert.id,
            region_id: alert.region_id,
            kind: alert.kind,
            level: alert.level,
            threats: alert.threats.clone(),
            since: alert.started_at,
        }
    }
}

/// The retained state of one region: `alert` (an alert on it or an ancestor), `partial` (only
/// below it) or `clear`, with the real alerts bearing on it. Exercises and tests never appear.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RegionStateMessage {
    pub region_id: RegionId,
    pub state: RegionState,
    pub alerts: Vec<StateAlert>,
    /// The state is the book's as of this sequence number.
    pub seq: Seq,
}

impl RegionStateMessage {
    pub fn of(book: &AlertBook, region: RegionId) -> RegionStateMessage {
        let mut alerts: Vec<StateAlert> =
            book.alerts_bearing_on(region).filter(|a| a.status == AlertStatus::Actual).map(StateAlert::of).collect();
        alerts.sort_by_key(|a| a.id);
        RegionStateMessage { region_id: region, state: book.region_state(region), alerts, seq: book.last_seq() }
    }

    /// The same state, whatever the sequence number: what decides whether to publish again.
    pub fn same_state_as(&self, other: &RegionStateMessage) -> bool {
        self.state == other.state && self.alerts == other.alerts
    }
}

/// A region's state for one alert kind, as a Home Assistant binary sensor reads it: `ON` while
/// a real alert of that kind covers the region (on it or an ancestor), with its attributes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KindStateMessage {
    pub state: &'static str,
    pub level: Option<AlertLevel>,
    pub threats: Vec<Threat>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub since: Option<OffsetDateTime>,
    pub alert_id: Option<AlertId>,
}

impl KindStateMessage {
    pub fn of(book: &AlertBook, region: RegionId, kind: AlertKind) -> KindStateMessage {
        let registry = book.registry();
        let covering = book
            .active()
            .filter(|a| a.kind == kind && a.status == AlertStatus::Actual && registry.is_within(region, a.region_id))
            .max_by_key(|a| (a.level == AlertLevel::Red, std::cmp::Reverse(a.started_at)));
        match covering {
            Some(alert) => KindStateMessage {
                state: "ON",
                level: Some(alert.level),
                threats: alert.threats.clone(),
                since: Some(alert.started_at),
                alert_id: Some(alert.id),
            },
            None => KindStateMessage { state: "OFF", level: None, threats: Vec::new(), since: None, alert_id: None },
        }
    }
}
