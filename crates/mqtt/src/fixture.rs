//! A small registry, alerts and events, for the unit tests.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use time::OffsetDateTime;
use time::macros::datetime;
use tryvoha_core::{
    Actor, Alert, AlertBook, AlertEvent, AlertId, AlertKind, AlertLevel, AlertStatus, EventType, RegionId,
    RegionRegistry, Threat,
};

/// Oblast 4 with raion 40 and its hromadas 400 and 401; oblast 8 alone.
const REGIONS: &str = "id,parent_id,level,katottg,name_uk,name_en\n\
    4,,oblast,UA4,Вінницька область,Vinnytsia Oblast\n\
    40,4,raion,UA40,Вінницький район,Vinnytskyi Raion\n\
    400,40,hromada,UA400,Вінницька громада,Vinnytsia Hromada\n\
    401,40,hromada,UA401,Агрономічна громада,Ahronomichne Hromada\n\
    8,,oblast,UA8,Волинська область,Volyn Oblast\n";

pub const AT: OffsetDateTime = datetime!(2026-11-20 01:10:00 UTC);

pub fn book() -> AlertBook {
    AlertBook::new(Arc::new(RegionRegistry::from_csv(REGIONS).unwrap()))
}

pub fn alert(id: u64, region: u32, kind: AlertKind, status: AlertStatus) -> Alert {
    Alert {
        id: AlertId(id),
        region_id: RegionId(region),
        kind,
        level: AlertLevel::Red,
        status,
        threats: vec![Threat::BallisticMissiles],
        message: None,
        instruction: None,
        started_at: AT,
        updated_at: AT,
        expires_at: None,
        finished_at: None,
        finish_reason: None,
        declared_by: Actor::system(),
        seq: 0,
        reinstates: None,
        shelter_within_s: None,
    }
}

/// Applies `alert` declared at `seq` (or its end, with `ended`) to `book`, and returns the event.
pub fn apply(book: &mut AlertBook, seq: u64, mut alert: Alert, ended: bool) -> AlertEvent {
    alert.seq = seq;
    let kind = if ended {
        alert.finished_at = Some(AT);
        alert.finish_reason = Some(tryvoha_core::FinishReason::Cancelled);
        EventType::Cancelled
    } else {
        EventType::Declared
    };
    let event = AlertEvent { seq, kind, at: AT, actor: Actor::system(), alert };
    book.apply(&event);
    event
}
